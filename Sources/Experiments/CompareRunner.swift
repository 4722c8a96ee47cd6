import Emulation
import Foundation
import Scheduling
import WaferModel

/// The measurements of one run of the matrix: one scheduler, workload, wafer size and load.
public struct CompareRun: Sendable, Equatable, Codable {
    public var workload: String
    public var size: CompareMatrix.Size
    public var load: Double
    /// The scheduler as `--scheduler` names it (reactive with its parameters).
    public var scheduler: String
    /// The replicate (``CompareMatrix/replicates``); nil for replicate 0, so journals written
    /// before replicates existed read back unchanged.
    public var replicate: Int?
    public var results: RunSummary.Results
    /// The octopus build that made the run (its build ID, ``CompareRunner/build``); nil when not
    /// recorded (journals from before it). A resumed or merged compare may hold runs of several.
    public var build: String?

    public init(
        workload: String, size: CompareMatrix.Size, load: Double, scheduler: String, replicate: Int = 0,
        results: RunSummary.Results
    ) {
        self.workload = workload
        self.size = size
        self.load = load
        self.scheduler = scheduler
        self.replicate = replicate == 0 ? nil : replicate
        self.results = results
    }

    /// The replicate number (0 for the seeds as written).
    public var replicateNumber: Int { replicate ?? 0 }
}

/// Runs a ``CompareMatrix`` in process, `jobs` runs at a time. Results do not depend on `jobs` or
/// on the order runs finish in: each run is a deterministic function of its inputs.
public struct CompareRunner {
    public var matrix: CompareMatrix
    public var base: WaferConfig
    public var library: WorkflowLibrary
    /// Workload injections by name, as written (before scaling).
    public var workloads: [String: [Injection]]
    /// The library of a workload that names its own workflow directory (others use `library`).
    public var libraries: [String: WorkflowLibrary] = [:]
    public var jobs: Int
    /// The build ID of the octopus build running the matrix, recorded in every run (nil: none).
    public var build: String?
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
        var replicate: Int
    }

    /// Runs the whole matrix: first every scheduler (and every reactive setting) at the first load,
    /// then, at the other loads, every scheduler with reactive at its best setting.
    public func run() throws -> [CompareRun] { try run(shard: .all) }

    /// Runs the cells (wafer size × workload) of `shard`, skipping the runs in `done` (from an
    /// interrupted run being resumed) and handing each new run to `record` as it finishes. Returns
    /// every run of the shard's cells, `done` included, in the matrix's own order — the order of
    /// an unsharded run — so reports do not depend on sharding or resuming.
    public func run(shard: Shard, done: [CompareRun] = [], record: (@Sendable (CompareRun) -> Void)? = nil) throws
        -> [CompareRun]
    {
        let cells = matrix.cells.enumerated().filter { shard.contains($0.offset) }.map(\.element)
        let finished = Set(done.map(Self.key))
        let firstJobs = phaseOne(cells).filter { !finished.contains(Self.key($0)) }
        let otherLoads = matrix.loads.count - 1
        let total =
            phaseOne(cells).count + otherLoads * cells.count * matrix.replicates
            * (matrix.fixedSchedulers.count + matrix.sweeps.count)
        let counter = Counter(total: total, progress: progress, already: done.count)
        var runs = done + (try execute(firstJobs, counter: counter, record: record))
        let laterJobs = phaseTwo(cells, after: runs).filter { !finished.contains(Self.key($0)) }
        runs += try execute(laterJobs, counter: counter, record: record)
        return try canonical(runs, cells: cells)
    }

    /// Which cells of the matrix a run covers: `index` of `count` (from 1) takes every count-th
    /// cell, in matrix order, starting with the index-th.
    public struct Shard: Sendable, Equatable, CustomStringConvertible {
        public var index: Int
        public var count: Int
        public static let all = Shard(index: 1, count: 1)

        public init(index: Int, count: Int) {
            self.index = index
            self.count = count
        }

        /// Reads `I/N` with 1 ≤ I ≤ N.
        public static func parse(_ text: String) -> Shard? {
            let parts = text.split(separator: "/").compactMap { Int($0) }
            guard parts.count == 2, parts[1] >= 1, (1...parts[1]).contains(parts[0]) else { return nil }
            return Shard(index: parts[0], count: parts[1])
        }

        func contains(_ cell: Int) -> Bool { cell % count == index - 1 }
        public var description: String { "\(index)/\(count)" }
    }

    func phaseOne(_ cells: [CompareMatrix.Cell]) -> [Job] { Self.phaseOne(cells, matrix) }
    func phaseTwo(_ cells: [CompareMatrix.Cell], after runs: [CompareRun]) -> [Job] {
        Self.phaseTwo(cells, after: runs, matrix)
    }
    public func canonical(_ runs: [CompareRun], cells: [CompareMatrix.Cell]? = nil) throws -> [CompareRun] {
        try Self.canonical(runs, matrix: matrix, cells: cells)
    }

    /// The runs of `cells` at the first load: every fixed scheduler and every swept setting, in
    /// every replicate.
    static func phaseOne(_ cells: [CompareMatrix.Cell], _ matrix: CompareMatrix) -> [Job] {
        guard let firstLoad = matrix.loads.first else { return [] }
        return cells.flatMap { cell in
            matrix.replicateRange.flatMap { replicate in
                (matrix.fixedSchedulers + matrix.sweeps.flatMap(\.settings)).map {
                    Job(
                        workload: cell.workload, size: cell.size, load: firstLoad, scheduler: $0, replicate: replicate)
                }
            }
        }
    }

    /// The runs of `cells` at the other loads, with each swept baseline at its best setting in
    /// `runs` (one setting per cell, chosen over all its replicates).
    static func phaseTwo(_ cells: [CompareMatrix.Cell], after runs: [CompareRun], _ matrix: CompareMatrix) -> [Job] {
        guard let firstLoad = matrix.loads.first else { return [] }
        return cells.flatMap { cell -> [Job] in
            let best = matrix.sweeps.map {
                CompareAnalysis.best(
                    of: $0.baseline, runs, workload: cell.workload, size: cell.size, load: firstLoad, sweep: $0.settings
                )
            }
            return matrix.replicateRange.flatMap { replicate in
                matrix.loads.dropFirst().flatMap { load in
                    (matrix.fixedSchedulers + best).map {
                        Job(workload: cell.workload, size: cell.size, load: load, scheduler: $0, replicate: replicate)
                    }
                }
            }
        }
    }

    /// `runs` of `cells` (default: the whole matrix) in the order an unsharded run makes them;
    /// an error names how many runs are missing.
    public static func canonical(_ runs: [CompareRun], matrix: CompareMatrix, cells: [CompareMatrix.Cell]? = nil)
        throws -> [CompareRun]
    {
        let cells = cells ?? matrix.cells
        var byKey: [String: CompareRun] = [:]
        for run in runs { byKey[Self.key(run)] = run }
        let phaseOneRuns = phaseOne(cells, matrix).compactMap { byKey[Self.key($0)] }
        let jobs = phaseOne(cells, matrix) + phaseTwo(cells, after: phaseOneRuns, matrix)
        let ordered = jobs.compactMap { byKey[Self.key($0)] }
        guard ordered.count == jobs.count else {
            let missing = jobs.filter { byKey[Self.key($0)] == nil }
            throw CompareError(
                message:
                    "\(missing.count) of \(jobs.count) runs are missing (first: \(missing[0].workload) \(missing[0].size) load \(missing[0].load) \(missing[0].scheduler) replicate \(missing[0].replicate))"
            )
        }
        return ordered
    }

    static func key(_ job: Job) -> String {
        key(job.workload, job.size, job.load, job.scheduler, job.replicate)
    }
    static func key(_ run: CompareRun) -> String {
        key(run.workload, run.size, run.load, run.scheduler, run.replicateNumber)
    }
    static func key(_ workload: String, _ size: CompareMatrix.Size, _ load: Double, _ scheduler: String, _ r: Int)
        -> String
    { "\(workload)|\(size)|\(load)|\(scheduler)|\(r)" }

    /// Runs `jobs` on up to `self.jobs` threads; results come back in the order of `jobs`.
    func execute(_ list: [Job], counter: Counter, record: (@Sendable (CompareRun) -> Void)? = nil) throws
        -> [CompareRun]
    {
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
                        record?(run)
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
        let config = matrix.wafer(base, size: job.size, replicate: job.replicate)
        let factor = Double(job.size.clusters) / Double(matrix.referenceClusters) * job.load
        let scheduler = try matrix.registry.scheduler(job.scheduler, defaults: matrix.schedulerParameters)
        let library = libraries[job.workload] ?? self.library
        let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
        for injection in injections {
            var scaled = injection.scaled(by: factor)
            scaled.seed &+= UInt64(job.replicate)
            try session.inject(scaled)
        }
        try session.runUntilIdle()
        let stats = try session.collectStats()
        var run = CompareRun(
            workload: job.workload, size: job.size, load: job.load, scheduler: job.scheduler,
            replicate: job.replicate, results: SummaryBuilder.results(session: session, stats: stats))
        run.build = build
        return run
    }

    /// Counts finished runs for progress reports.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var done = 0
        let total: Int
        let progress: (@Sendable (Int, Int, CompareRun) -> Void)?

        init(total: Int, progress: (@Sendable (Int, Int, CompareRun) -> Void)?, already: Int = 0) {
            self.total = total
            self.progress = progress
            done = already
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
