import Foundation
import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// What one cluster may send another reaches it through the coordinator, which checks only
/// references and bounds (``ReportCheck``): amounts within them are believed. Random messages
/// that pass the check — tasks of any size, count and loop or fan-out position, balancing
/// signals of any load, transits, credits — delivered to a cluster of every kind of scheduler
/// must neither trap it nor make it send anything the check would refuse (which would stop the
/// run blaming an honest cluster). Seeds come from `OCTOPUS_FUZZ_SEED` (default 1) and the
/// number of cases from `OCTOPUS_FUZZ_MUTANTS` (default 24); `scripts/fuzz` runs more.
final class EnvelopeFuzzTests: XCTestCase {
    static let seed = UInt64(ProcessInfo.processInfo.environment["OCTOPUS_FUZZ_SEED"] ?? "") ?? 1
    static let cases = Int(ProcessInfo.processInfo.environment["OCTOPUS_FUZZ_MUTANTS"] ?? "") ?? 24

    /// A wafer, and the schedulers whose clusters receive messages from each other on it.
    struct Setting {
        var config: WaferConfig
        var schedulers: [String]
    }

    func settings() throws -> [Setting] {
        let small = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        var credited = small
        credited.cluster.flowCredits = 2
        let contended = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/contention-4x4.yaml")
        let all = ["octopus", "reactive:threshold=1000", "least-loaded", "static", "score", "fifo"]
        return [
            Setting(config: small, schedulers: all), Setting(config: credited, schedulers: all),
            Setting(config: contended, schedulers: ["octopus", "least-loaded", "fifo"]),
        ]
    }

    func testMessagesThatPassTheCheckNeverTrapTheirReceiverNorMakeItSendWhatTheCheckRefuses() throws {
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let settings = try settings()
        var random = SplitMix64(seed: Self.seed)
        var accepted = 0
        var sent = 0
        for index in 0..<Self.cases {
            let setting = settings[index % settings.count]
            let scheduler = setting.schedulers[Int(random.next() % UInt64(setting.schedulers.count))]
            let config = setting.config
            let check = ReportCheck(config: config, library: library, scheduler: .standard(scheduler))
            let target = Int(random.next() % UInt64(config.clusterCount))
            let engine = ClusterEngine(
                id: target, config: config, library: library, scheduler: .standard(scheduler))
            var generator = MessageGenerator(random: random, config: config, library: library, target: target)
            var envelopes: [Envelope] = []
            for _ in 0..<60 {
                let envelope = generator.envelope()
                guard let source = envelope.source.clusterIndex else { continue }
                if check.problem(with: envelope, from: source, window: envelope.sendTime..<(envelope.sendTime + 1))
                    == nil
                {
                    envelopes.append(envelope)
                }
            }
            random = generator.random
            accepted += envelopes.count
            engine.receive(envelopes)
            let context = "case \(index) (seed \(Self.seed)): \(scheduler) on cluster \(target) of \(config.name)"
            var start: Cycle = 0
            for end in stride(from: Cycle(50_000), through: 2_000_000, by: 50_000) {
                let output = engine.runWindow(end: end)
                XCTAssertNil(
                    check.problem(
                        nextEvent: output.nextEventTime, earliestOutput: output.earliestOutput, windowEnd: end),
                    context)
                for envelope in output.envelopes {
                    sent += 1
                    if let problem = check.problem(with: envelope, from: target, window: start..<end) {
                        XCTFail("\(context): it sent what the check refuses: \(problem)")
                    }
                }
                for timed in output.trace {
                    if let problem = check.problem(with: timed.record, from: target) {
                        XCTFail("\(context): it traced what the check refuses: \(problem)")
                    }
                }
                start = end
            }
            let stats = engine.finalStats(end: start)
            XCTAssertNil(check.problem(with: stats, from: target, end: start), context)
        }
        // The generator must reach the engine, not only the check.
        XCTAssertGreaterThan(accepted, Self.cases * 20, "most generated messages pass the check")
        XCTAssertGreaterThan(sent, Self.cases, "the clusters answered")
    }

    /// The same for the coordinator: random reports from clusters that pass the check — outcomes
    /// of any request, loads of any amount, ready blocks, releases, stalls — neither trap it nor
    /// its tables of requests.
    func testReportsThatPassTheCheckNeverTrapTheCoordinator() throws {
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let settings = try settings()
        var random = SplitMix64(seed: Self.seed &+ 1)
        var accepted = 0
        let schedulers = ["octopus", "fifo", "static", "score", "octopus-clairvoyant", "reactive"]
        for index in 0..<Self.cases {
            let config = settings[index % settings.count].config
            let scheduler = schedulers[Int(random.next() % UInt64(schedulers.count))]
            let check = ReportCheck(config: config, library: library, scheduler: .standard(scheduler))
            let coordinator = CoordinatorEngine(config: config, library: library, scheduler: .standard(scheduler))
            let workflow = library.workflows[Int(random.next() % UInt64(library.workflows.count))].name
            try coordinator.inject(
                Injection(workflow: workflow, count: 20, arrival: .poisson(meanInterval: 20_000), start: 0, seed: 3),
                earliest: 0)
            var generator = MessageGenerator(random: random, config: config, library: library, target: 0)
            var envelopes: [Envelope] = []
            for _ in 0..<60 {
                let envelope = generator.report()
                if let source = envelope.source.clusterIndex,
                    check.problem(with: envelope, from: source, window: envelope.sendTime..<(envelope.sendTime + 1))
                        == nil
                {
                    envelopes.append(envelope)
                }
            }
            random = generator.random
            accepted += envelopes.count
            coordinator.receive(envelopes)
            for end in stride(from: Cycle(50_000), through: 2_000_000, by: 50_000) {
                _ = coordinator.runWindow(end: end)
            }
            _ = RequestTable.csv(coordinator.records, library: library)
        }
        XCTAssertGreaterThan(accepted, Self.cases * 20, "most generated reports pass the check")
    }

    /// What clusters send at the end and along the way for the run's files: random trace records
    /// and end-of-run statistics that pass the check, fed to the utilisation timeline, both trace
    /// writers and the summary, trap none of them.
    func testTraceRecordsAndStatisticsThatPassTheCheckNeverTrapTheRunsFiles() throws {
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let settings = try settings()
        var random = SplitMix64(seed: Self.seed &+ 2)
        let directory = NSTemporaryDirectory() + "octopus-fuzz-files-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var records = 0
        for index in 0..<Self.cases {
            let config = settings[index % settings.count].config
            let check = ReportCheck(config: config, library: library, scheduler: .octopus)
            var generator = MessageGenerator(random: random, config: config, library: library, target: 0)
            for format in [TraceFormat.json, .perfetto] {
                let writer = try format.writer(directory: directory, config: config, library: library)
                let timeline = UtilisationTimeline(mesh: config.mesh, forward: writer)
                var lists = [[TimedTraceRecord]](repeating: [], count: config.clusterCount + 1)
                for _ in 0..<80 {
                    let cluster = Int(generator.anyCluster())
                    let record = generator.record(from: cluster)
                    guard check.problem(with: record, from: cluster) == nil else { continue }
                    lists[cluster + 1].append(TimedTraceRecord(time: record.extent.time, record: record))
                    records += 1
                }
                try timeline.append(window: lists)
                _ = timeline.csv(end: generator.amount() % Limits.horizon)
                try writer.close()
            }
            // End-of-run statistics of every cluster, each passing the check, in one summary.
            let session = WaferSession.inProcess(config: config, library: library)
            let end = Cycle(1 + generator.below(1 << 40))
            let stats = (0..<config.clusterCount).map { generator.stats(of: $0, end: end) }
            for report in stats {
                XCTAssertNil(check.problem(with: report, from: report.cluster, end: end), "case \(index)")
            }
            _ = SummaryBuilder.results(session: session, stats: stats)
            random = generator.random
        }
        XCTAssertGreaterThan(records, Self.cases * 40, "most generated records pass the check")
    }
}

/// Random messages to `target` from the other clusters, whose references exist on the wafer
/// and whose amounts are anything, favouring the extremes.
struct MessageGenerator {
    var random: SplitMix64
    let config: WaferConfig
    let library: WorkflowLibrary
    let target: Int
    private var sequence: UInt64 = 0

    init(random: SplitMix64, config: WaferConfig, library: WorkflowLibrary, target: Int) {
        self.random = random
        self.config = config
        self.library = library
        self.target = target
    }

    mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(max(bound, 1))) }

    /// Any 64-bit amount, often an extreme one.
    mutating func amount() -> UInt64 {
        let extremes: [UInt64] = [0, 1, 4096, UInt64(UInt32.max), 1 << 48, Limits.horizon, 1 << 63, .max]
        return below(3) == 0 ? random.next() >> UInt64(below(64)) : extremes[below(extremes.count)]
    }

    mutating func count() -> UInt32 {
        [0, 1, 2, 7, UInt32.max / 2, .max][below(6)]
    }

    mutating func otherCluster() -> Int32 {
        let other = below(config.clusterCount - 1)
        return Int32(other >= target ? other + 1 : other)
    }

    mutating func anyCluster() -> Int32 { Int32(below(config.clusterCount)) }

    mutating func task(sent: Cycle) -> TaskMessage {
        let workflow = below(library.workflows.count)
        let graph = library[workflow]
        var task = TaskMessage(
            request: UInt64(below(8)), taskType: TaskType(workflow: workflow, block: below(graph.blocks.count)),
            bytes: amount(), injected: Cycle(below(Int(sent) + 1)), tasksDone: count(), flow: random.next())
        // Loop frames at loop blocks, at any iteration the loop allows.
        for (index, block) in graph.blocks.enumerated() where below(3) == 0 {
            if case .control(.loop(_, _, _, _, let most)) = block.kind {
                task.loops.append(
                    LoopFrame(block: UInt16(index), iteration: UInt32(below(most + 1)), trips: count()))
            }
        }
        // Fan-out frames: half the time those of a fan-out the block is inside (the check refuses
        // others), with any home, id and item.
        let structure = WorkflowStructure(graph)
        let enclosing = structure.fanoutRegions.filter { $0.value.contains(Int(task.taskType.block)) }.keys.sorted()
        if !enclosing.isEmpty && below(2) == 0 {
            let fanout = enclosing[below(enclosing.count)]
            task.fanouts.append(
                FanoutFrame(
                    home: below(2) == 0 ? Int32(target) : anyCluster(), id: UInt32(below(4)), item: count(),
                    join: UInt16(WorkflowStructure.join(of: fanout, in: graph)!)))
        } else {
            for _ in 0..<below(3) {
                task.fanouts.append(
                    FanoutFrame(
                        home: below(2) == 0 ? Int32(target) : anyCluster(), id: UInt32(below(4)), item: count(),
                        join: UInt16(below(graph.blocks.count))))
            }
        }
        task.failed = below(4) == 0
        task.credit = below(3) == 0 ? anyCluster() : -1
        if below(3) == 0 {
            let parameters = graph.requestParameters.count
            task.parameters = (0..<below(parameters + 2)).map { _ in Int32(truncatingIfNeeded: random.next()) }
        }
        return task
    }

    mutating func envelope() -> Envelope {
        let source = otherCluster()
        let sent = Cycle(below(1_000_000))
        let arrival = sent + 1 + Cycle(below(20_000))
        let message: Message
        switch below(4) {
        case 0, 1: message = .task(task(sent: sent))
        case 2:
            let kind = BalanceSignal.Kind.allCases[below(BalanceSignal.Kind.allCases.count)]
            message = .balance(BalanceSignal(kind: kind, cluster: source, cycles: amount(), count: count()))
        default:
            if below(2) == 0 {
                message = .credit(FlowCredit(cluster: source))
            } else {
                message = .transit(
                    Transit(
                        task: task(sent: sent), destination: below(2) == 0 ? Int32(target) : anyCluster(),
                        tail: arrival + Cycle(below(10_000)), entering: below(2) == 0))
            }
        }
        sequence += 1
        return Envelope(
            source: .cluster(Int(source)), destination: .cluster(target), sendTime: sent, arrival: arrival,
            sequence: sequence, message: message)
    }

    /// A report to the coordinator from any cluster.
    mutating func report() -> Envelope {
        let source = anyCluster()
        let sent = Cycle(below(1_000_000))
        let workflow = below(library.workflows.count)
        let type = TaskType(workflow: workflow, block: below(library[workflow].blocks.count))
        let tbus = config.mesh.workingTBUs(of: Int(source))
        let message: Message
        switch below(5) {
        case 0:
            let injected = Cycle(below(Int(sent) + 1))
            message = .outcome(
                RequestOutcome(
                    request: UInt64(below(40)), workflow: UInt16(workflow), injected: injected,
                    finished: injected + Cycle(below(Int(sent - injected) + 1)),
                    status: below(2) == 0 ? .completed : .rejected, tasksDone: count(), cluster: source))
        case 1:
            let busy = below(tbus + 1)
            message = .load(
                ClusterLoad(
                    cluster: Int(source), tbus: tbus, busyTBUs: busy, queuedTasks: Int(amount() % (Limits.horizon + 1)),
                    pendingCycles: amount() % (Limits.horizon + 1),
                    byType: [
                        TaskTypeLoad(taskType: type, queuedTasks: below(1000), pendingCycles: amount() % Limits.horizon)
                    ],
                    configurations: (0..<below(tbus + 1)).map { _ in below(2) == 0 ? type : nil },
                    finished: [
                        TypeRuns(
                            taskType: type, runs: count(), cycles: Double(below(1 << 30)),
                            squares: Double(below(1 << 30)) * Double(below(1 << 30)))
                    ],
                    running: below(2) == 0 ? [type] : [],
                    started: [RequestBlock(request: UInt64(below(40)), taskType: type)]))
        case 2:
            message = .ready(
                ReadyTask(
                    task: task(sent: sent), origin: source, pinned: below(2) == 0 ? -1 : anyCluster()))
        case 3:
            message = .release(TBURelease(cluster: source, units: UInt16(below(tbus + 1))))
        default:
            message = .stall(
                FlowStall(
                    cluster: source, stalled: below(2) == 0,
                    waiting: [CreditCount(cluster: anyCluster(), count: count())],
                    holding: [CreditCount(cluster: anyCluster(), count: count())]))
        }
        sequence += 1
        return Envelope(
            source: .cluster(Int(source)), destination: .coordinator, sendTime: sent,
            arrival: sent + 1 + Cycle(below(20_000)), sequence: sequence, message: message)
    }

    /// A trace record of `cluster` with any times, units and amounts.
    mutating func record(from cluster: Int) -> TraceRecord {
        let c = Int32(cluster)
        let workflow = below(library.workflows.count)
        let type = TaskType(workflow: workflow, block: below(library[workflow].blocks.count))
        let unit = UInt16(truncatingIfNeeded: [0, 1, 2, 1001, 2001, 2005, 9999, 65535][below(8)])
        let time = amount() % (Limits.horizon + 1)
        switch below(6) {
        case 0, 1:
            let kinds: [SliceKind] = [.task, .reconfigure, .control, .operation, .splitPart, .blocked]
            return .slice(
                cluster: c, unit: unit, start: time, duration: amount() % (Limits.horizon + 1),
                kind: kinds[below(kinds.count)], taskType: type, request: UInt64(below(3)))
        case 2:
            return below(2) == 0
                ? .flowStart(cluster: c, unit: unit, time: time, flow: random.next())
                : .flowEnd(cluster: c, unit: unit, time: time, flow: random.next())
        case 3:
            return .queue(
                cluster: c, time: time, tasks: count(), busyTBUs: UInt16(truncatingIfNeeded: below(70_000)),
                pendingCycles: amount())
        case 4: return .rejected(cluster: c, time: time, request: random.next(), taskType: type)
        default:
            return .linkBusy(
                cluster: c, resource: UInt8(truncatingIfNeeded: below(300)), start: time,
                duration: amount() % (Limits.horizon + 1), waited: amount(), bytes: amount())
        }
    }

    /// End-of-run statistics of `cluster` for a run that ended at `end`: every count anything,
    /// the shape the check asks for (its TBUs, the run's idle-timeline bins).
    mutating func stats(of cluster: Int, end: Cycle) -> ClusterStats {
        var stats = ClusterStats(cluster: cluster, tbus: config.mesh.workingTBUs(of: cluster))
        for index in stats.tbus.indices {
            stats.tbus[index].tasks = amount()
            stats.tbus[index].busyCycles = amount()
            stats.tbus[index].reconfigurationCycles = amount()
            stats.tbus[index].starvedCycles = amount()
            stats.tbus[index].unassignedCycles = amount()
            stats.tbus[index].blockedCycles = amount()
            stats.tbus[index].idleStarts = (0..<below(5)).map { _ in amount() % end }.sorted()
        }
        stats.controlBlocks = amount()
        stats.cbuBusyCycles = amount()
        stats.rejected = amount()
        stats.byteHops = amount()
        stats.localFlows = amount()
        stats.events = amount()
        stats.fanoutItems = amount()
        stats.earlyExits = amount()
        stats.migrations = amount()
        stats.migrationByteHops = amount()
        stats.messagesSent = ["task": amount(), "load": amount()]
        let width = UtilisationTimeline.binWidth(covering: end)
        let bins = Int((end - 1) / width) + 1
        stats.idleTimeline = IdleTimeline(
            width: width, starved: (0..<bins).map { _ in amount() }, unassigned: (0..<bins).map { _ in amount() })
        return stats
    }
}
