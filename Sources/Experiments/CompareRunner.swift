import Emulation
import Foundation
import Scheduling
import WaferModel

/// The measurements of one run of the matrix: one scheduler, workload, wafer size and load.
public struct CompareRun: Sendable, Equatable {
    public var workload: String
    public var size: CompareMatrix.Size
    public var load: Double
    /// The scheduler as `--scheduler` names it (reactive with its parameters).
    public var scheduler: String
    public var results: RunSummary.Results
}

/// Runs a ``CompareMatrix`` in process, `jobs` runs at a time. Results do not depend on `jobs` or
/// on the order runs finish in: each run is a deterministic function of its inputs.
public struct CompareRunner {
    public var matrix: CompareMatrix
    public var base: WaferConfig
    public var library: WorkflowLibrary
    /// Workload injections by name, as written (before scaling).
    public var workloads: [String: [Injection]]
    public var jobs: Int
    /// Called after every run with (finished, total, the run); for progress output.
    public var progress: (@Sendable (Int, Int, CompareRun) -> Void)?

    public init(
        matrix: CompareMatrix, base: WaferConfig, library: WorkflowLibrary, workloads: [String: [Injection]], jobs: Int
    ) {
        self.matrix = matrix
        self.base = base
        self.library = library
        self.workloads = workloads
        self.jobs = max(1, jobs)
    }

    /// One run to do.
    struct Job: Sendable {
        var workload: String
        var size: CompareMatrix.Size
        var load: Double
        /// The scheduler's text form (built from the matrix's registry when the job runs).
        var scheduler: String
    }

    /// Runs the whole matrix: first every scheduler (and every reactive setting) at the first load,
    /// then, at the other loads, every scheduler with reactive at its best setting.
    public func run() throws -> [CompareRun] {
        guard let firstLoad = matrix.loads.first else { return [] }
        let fixed = matrix.fixedSchedulers
        let sweeps = matrix.sweeps
        var first: [Job] = []
        for size in matrix.sizes {
            for workload in matrix.workloads {
                for scheduler in fixed + sweeps.flatMap(\.settings) {
                    first.append(Job(workload: workload, size: size, load: firstLoad, scheduler: scheduler))
                }
            }
        }
        let otherLoads = Array(matrix.loads.dropFirst())
        let perLoad = fixed.count + sweeps.count
        let total = first.count + otherLoads.count * matrix.sizes.count * matrix.workloads.count * perLoad
        let counter = Counter(total: total, progress: progress)
        var runs = try execute(first, counter: counter)
        var later: [Job] = []
        for size in matrix.sizes {
            for workload in matrix.workloads {
                // A swept baseline runs on at its best setting.
                let best = sweeps.map {
                    CompareAnalysis.best(of: $0.baseline, runs, workload: workload, size: size, load: firstLoad)
                }
                for load in otherLoads {
                    for s in fixed + best {
                        later.append(Job(workload: workload, size: size, load: load, scheduler: s))
                    }
                }
            }
        }
        runs += try execute(later, counter: counter)
        return runs
    }

    /// Runs `jobs` on up to `self.jobs` threads; results come back in the order of `jobs`.
    func execute(_ list: [Job], counter: Counter) throws -> [CompareRun] {
        let slots = ResultSlots(count: list.count)
        let workers = min(jobs, list.count)
        let group = DispatchGroup()
        for worker in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                var index = worker
                while index < list.count, !slots.failed {
                    do {
                        let run = try self.runOne(list[index])
                        slots.set(index, .success(run))
                        counter.tick(run)
                    } catch {
                        slots.set(index, .failure(error))
                    }
                    index += workers
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return try slots.values()
    }

    /// One in-process run of `job`.
    func runOne(_ job: Job) throws -> CompareRun {
        guard let injections = workloads[job.workload] else {
            throw CompareError(message: "unknown workload '\(job.workload)'")
        }
        let config = CompareMatrix.wafer(base, size: job.size)
        let factor = Double(job.size.clusters) / Double(matrix.referenceClusters) * job.load
        let scheduler = try matrix.registry.scheduler(job.scheduler)
        let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
        for injection in injections { try session.inject(injection.scaled(by: factor)) }
        try session.runUntilIdle()
        let stats = try session.transport.collectStats(end: session.accountingEnd)
        return CompareRun(
            workload: job.workload, size: job.size, load: job.load, scheduler: scheduler.description,
            results: SummaryBuilder.results(session: session, stats: stats))
    }

    /// Counts finished runs for progress reports.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var done = 0
        let total: Int
        let progress: (@Sendable (Int, Int, CompareRun) -> Void)?

        init(total: Int, progress: (@Sendable (Int, Int, CompareRun) -> Void)?) {
            self.total = total
            self.progress = progress
        }

        func tick(_ run: CompareRun) {
            lock.lock()
            done += 1
            let now = done
            lock.unlock()
            progress?(now, total, run)
        }
    }

    /// Results written by worker threads, read once all have finished.
    final class ResultSlots: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Result<CompareRun, Error>?]
        private var anyFailed = false

        /// True once some run has failed (the others stop taking new runs).
        var failed: Bool {
            lock.lock()
            defer { lock.unlock() }
            return anyFailed
        }

        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func set(_ index: Int, _ result: Result<CompareRun, Error>) {
            lock.lock()
            slots[index] = result
            if case .failure = result { anyFailed = true }
            lock.unlock()
        }

        func values() throws -> [CompareRun] {
            lock.lock()
            defer { lock.unlock() }
            // The first failure in matrix order, so the error reported does not depend on timing.
            for slot in slots { if case .failure(let error)? = slot { throw error } }
            return slots.compactMap { try? $0?.get() }
        }
    }
}

/// A matrix that cannot run as asked.
public struct CompareError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
