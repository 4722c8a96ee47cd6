import Foundation
import Scheduling
import WaferModel
import XCTest

@testable import Emulation

let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Builds and runs an in-process session over the repository's configs.
func runInProcess(
    wafer: String = "small-2x2", workload: String = "small", scheduler: Scheduler = .octopus,
    edit: (inout WaferConfig) -> Void = { _ in }, tracePath: String? = nil, windows: Bool = false,
    speculation: Speculation? = nil, workflows: String = repositoryRoot + "/Configs/workflows"
) throws -> (WaferSession, RunSummary.Results) {
    var config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/\(wafer).yaml")
    edit(&config)
    let library = try WorkflowLibrary.load(directory: workflows, topologies: repositoryRoot + "/Configs/topologies")
    let injections = try WorkloadLoader.load(
        path: repositoryRoot + "/Configs/workloads/\(workload).yaml", known: Set(library.names))
    let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
    session.usesGlobalEventOrder = !windows && speculation == nil
    if let speculation { session.speculation = speculation }
    var writer: ChromeTraceWriter?
    if let tracePath {
        writer = try ChromeTraceWriter(path: tracePath, config: config, library: library)
        session.traceSink = writer
    }
    for injection in injections { try session.inject(injection) }
    try session.runUntilIdle()
    try writer?.close()
    let stats = try session.transport.collectStats(end: session.accountingEnd)
    return (session, SummaryBuilder.results(session: session, stats: stats))
}

final class SessionTests: XCTestCase {
    func testEveryRequestFinishesExactlyOnce() throws {
        let (session, results) = try runInProcess()
        let ids = session.coordinator.records.map(\.outcome.request)
        XCTAssertEqual(ids.count, 112)
        XCTAssertEqual(Set(ids), Set(0..<112), "each injected request reported once, none invented")
        XCTAssertEqual(results.overall.completed + results.overall.rejected, 112)
        XCTAssertEqual(results.emulation.causalityViolations, 0)
        XCTAssertTrue(session.isIdle)
        XCTAssertEqual(session.coordinator.inFlight, 0)
        for outcome in session.coordinator.records.map(\.outcome) where outcome.status == .completed {
            XCTAssertGreaterThan(outcome.finished, outcome.injected)
            XCTAssertGreaterThanOrEqual(
                outcome.tasksDone, 2, "at least preprocess/features and the detector/spotter ran")
        }
    }

    func testEverySchedulerFinishesEveryRequestExactlyOnceAndRepeats() throws {
        for scheduler in SchedulerRegistry.standard.names.map(Scheduler.standard) {
            let (session, results) = try runInProcess(scheduler: scheduler)
            let ids = session.coordinator.records.map(\.outcome.request)
            XCTAssertEqual(ids.count, 112, scheduler.name)
            XCTAssertEqual(Set(ids), Set(0..<112), scheduler.name)
            // Some schedulers fill a queue of this small wafer on some seeds (octopus rejects on
            // three of seeds 1–8); whatever ends rejected is counted once, never lost.
            let completed = session.coordinator.records.filter { $0.outcome.status == .completed }.count
            XCTAssertEqual(results.overall.completed, UInt64(completed), scheduler.name)
            XCTAssertEqual(results.overall.completed + results.overall.rejected, 112, scheduler.name)
            XCTAssertGreaterThan(results.overall.completed, 56, "\(scheduler.name): most requests complete")
            XCTAssertEqual(results.emulation.causalityViolations, 0, scheduler.name)
            XCTAssertEqual(results.scheduler, scheduler.description)
            let (_, again) = try runInProcess(scheduler: scheduler)
            XCTAssertEqual(again, results, "\(scheduler.name) is deterministic")
        }
    }

    func testBranchFrequencyFollowsItsProbability() throws {
        let (session, _) = try runInProcess(wafer: "default", workload: "default")
        // detect-classify: 3 task blocks when the branch is taken (p = 0.7), else 2.
        let detect = UInt16(session.coordinator.library.index(of: "detect-classify")!)
        let outcomes = session.coordinator.records.map(\.outcome).filter {
            $0.workflow == detect && $0.status == .completed
        }
        let taken = Double(outcomes.filter { $0.tasksDone == 3 }.count) / Double(outcomes.count)
        XCTAssertEqual(outcomes.count, 400)
        XCTAssertEqual(taken, 0.7, accuracy: 0.07, "400 Bernoulli(0.7) draws: σ ≈ 0.023")
    }

    func testRunsAreDeterministic() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-determinism-\(getpid())")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, first) = try runInProcess(tracePath: directory + "/a.json")
        let (_, second) = try runInProcess(tracePath: directory + "/b.json")
        XCTAssertEqual(first, second)
        XCTAssertEqual(
            try SummaryRenderer.json(RunSummary(results: first, host: nil)),
            try SummaryRenderer.json(RunSummary(results: second, host: nil)))
        let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/a.json"))
        XCTAssertEqual(a, try Data(contentsOf: URL(fileURLWithPath: directory + "/b.json")))
        XCTAssertGreaterThan(a.count, 10_000)
    }

    /// A workload's results do not depend on what else its workflow directory holds: a copy of the
    /// library with one more workflow, named to sort first (so every index moves), gives the same
    /// results and trace for schedulers that draw placements, branches, loops and fan-outs.
    func testResultsDoNotDependOnTheLibrarysOtherWorkflows() throws {
        let fileManager = FileManager.default
        let directory = fileManager.temporaryDirectory.appendingPathComponent("octopus-library-\(getpid())").path
        let larger = directory + "/workflows"
        try fileManager.createDirectory(atPath: larger, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(atPath: directory) }
        let original = repositoryRoot + "/Configs/workflows"
        for file in try fileManager.contentsOfDirectory(atPath: original) {
            try fileManager.copyItem(atPath: original + "/" + file, toPath: larger + "/" + file)
        }
        let copy = try String(contentsOfFile: original + "/detect-classify.yaml", encoding: .utf8)
        XCTAssertTrue(copy.contains("\nname: detect-classify\n"))
        try copy.replacingOccurrences(of: "\nname: detect-classify\n", with: "\nname: aaa-unused\n")
            .write(toFile: larger + "/aaa-unused.yaml", atomically: true, encoding: .utf8)
        let library = try WorkflowLibrary.load(directory: larger, topologies: repositoryRoot + "/Configs/topologies")
        XCTAssertEqual(library.workflows.first?.name, "aaa-unused", "the extra workflow moves every index")

        for name in ["static", "reactive", "octopus"] {
            let (_, alone) = try runInProcess(
                workload: "suite-small", scheduler: .standard(name), tracePath: directory + "/alone.json")
            let (_, beside) = try runInProcess(
                workload: "suite-small", scheduler: .standard(name), tracePath: directory + "/beside.json",
                workflows: larger)
            XCTAssertEqual(
                try SummaryRenderer.json(RunSummary(results: alone, host: nil)),
                try SummaryRenderer.json(RunSummary(results: beside, host: nil)), name)
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: directory + "/alone.json")),
                try Data(contentsOf: URL(fileURLWithPath: directory + "/beside.json")), "\(name): the same trace")
        }
    }

    func testDifferentSeedsDiffer() throws {
        let (_, a) = try runInProcess()
        let (_, b) = try runInProcess(edit: { $0.seed = 99 })
        XCTAssertNotEqual(a.overall.latency, b.overall.latency)
    }

    /// The fast in-process engine (one global event order) and the windows of the multi-process
    /// protocol, run in one process, give the same results and the same trace, byte for byte.
    func testGlobalEventOrderEqualsWindowsForEveryScheduler() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-order-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in SchedulerRegistry.standard.names {
            let (windowed, viaWindows) = try runInProcess(
                workload: "suite-small", scheduler: .standard(name), tracePath: directory + "/w.json", windows: true)
            let (sequential, inOrder) = try runInProcess(
                workload: "suite-small", scheduler: .standard(name), tracePath: directory + "/s.json")
            XCTAssertGreaterThan(windowed.synchronizer.windows, 0, name)
            XCTAssertEqual(sequential.synchronizer.windows, 0, "\(name): no windows in global event order")
            XCTAssertEqual(inOrder, viaWindows, name)
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: directory + "/s.json")),
                try Data(contentsOf: URL(fileURLWithPath: directory + "/w.json")), "\(name): the same trace")
        }
    }

    func testQuantumModeDefersMessagesAndReportsIt() throws {
        let (exactSession, exact) = try runInProcess(windows: true)
        let (quantumSession, quantum) = try runInProcess(wafer: "small-2x2-quantum")
        XCTAssertEqual(exact.emulation.quantumDelayedMessages, 0)
        XCTAssertGreaterThan(quantum.emulation.quantumDelayedMessages, 0)
        XCTAssertGreaterThan(quantum.emulation.quantumDelayCycles, 0)
        XCTAssertLessThan(quantumSession.synchronizer.windows, exactSession.synchronizer.windows)
        XCTAssertEqual(quantum.overall.completed + quantum.overall.rejected, 112)
        XCTAssertEqual(quantum.emulation.causalityViolations, 0)
    }

    /// Fan-out items rejected at a full queue still reach their join (also when joins, as control
    /// blocks, queue with task blocks): every request ends exactly once, with every scheduler.
    func testFullQueuesWithFanOutsEndEveryRequestOnce() throws {
        for spec in SchedulerRegistry.standard.names.map(Scheduler.standard) {
            let (session, results) = try runInProcess(
                workload: "suite-small", scheduler: spec, edit: { $0.cluster.queueCapacity = 2 })
            XCTAssertGreaterThan(results.overall.rejected, 0, spec.name)
            XCTAssertEqual(results.overall.completed + results.overall.rejected, 64, spec.name)
            XCTAssertEqual(Set(session.coordinator.records.map(\.outcome.request)).count, 64, spec.name)
        }
    }

    func testFullQueuesRejectAndCountInsteadOfLosingWork() throws {
        let (session, results) = try runInProcess(edit: { $0.cluster.queueCapacity = 1 })
        XCTAssertGreaterThan(results.overall.rejected, 0)
        XCTAssertEqual(results.overall.completed + results.overall.rejected, 112)
        XCTAssertEqual(UInt64(results.clusterDetails.reduce(0) { $0 + $1.rejected }), results.overall.rejected)
        XCTAssertEqual(session.coordinator.inFlight, 0)
    }

    /// With every scheduler (splits, proactive reconfiguration, global dispatch, migration), each
    /// TBU-cycle up to the end is accounted for exactly once.
    func testUtilisationAndIdleBreakdownAddUp() throws {
        for spec in SchedulerRegistry.standard.names.map(Scheduler.standard) {
            let (session, r) = try runInProcess(scheduler: spec)
            let total = r.time.busy + r.time.reconfiguring + r.time.starved + r.time.unassigned + r.time.blocked
            XCTAssertEqual(
                total, 1, accuracy: 1e-9, "\(spec.name): every TBU-cycle up to the end is accounted for once")
            XCTAssertGreaterThan(r.utilisation, 0, spec.name)
            XCTAssertLessThanOrEqual(r.utilisation, 1, spec.name)
            // The idle timeline spreads exactly the starved and unassigned cycles over time.
            for cluster in try session.transport.collectStats(end: session.accountingEnd) {
                let timeline = try XCTUnwrap(cluster.idleTimeline, spec.name)
                XCTAssertEqual(
                    timeline.starved.reduce(0, +), cluster.tbus.reduce(0) { $0 + $1.starvedCycles },
                    "\(spec.name), cluster \(cluster.cluster): starved")
                XCTAssertEqual(
                    timeline.unassigned.reduce(0, +), cluster.tbus.reduce(0) { $0 + $1.unassignedCycles },
                    "\(spec.name), cluster \(cluster.cluster): unassigned")
            }
        }
    }

    /// Starved and unassigned bins against a hand-worked queue history: two TBUs, one idle over
    /// [0, 2500) and one over [1500, 4000), the queue non-empty over [1000, 1200) and [1800, ∞).
    func testIdleTimelineSplitsIdleTimeByTheQueue() {
        let timeline = IdleTimeline(
            periods: [(0, 2500), (1500, 4000)], queueToggles: [1000, 1200, 1800], end: 4000, width: 1000)
        // Bin 0: TBU 0 idle 1000, queue empty → starved 1000.
        // Bin 1: TBU 0 idle 1000, queued 200 + 200; TBU 1 idle 500, queued 200 → unassigned 600.
        // Bin 2: TBU 0 idle 500, TBU 1 idle 1000, all queued. Bin 3: TBU 1 idle 1000, queued.
        XCTAssertEqual(timeline.unassigned, [0, 600, 1500, 1000])
        XCTAssertEqual(timeline.starved, [1000, 900, 0, 0])
        let coarse = timeline.coarsened(to: 2000)
        XCTAssertEqual(coarse.unassigned, [600, 2500])
        XCTAssertEqual(coarse.starved, [1900, 0])
        XCTAssertEqual(IdleTimeline.nonEmptyCycles(from: 0, to: 100, toggles: [50, 50]), 0, "an empty-again toggle")
        XCTAssertEqual(IdleTimeline.nonEmptyCycles(from: 60, to: 100, toggles: [50]), 40)
    }

    func testTraceIsValidChromeTraceJSON() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-trace-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (session, _) = try runInProcess(tracePath: path)
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        let events = object["traceEvents"] as! [[String: Any]]
        let phases = Set(events.compactMap { $0["ph"] as? String })
        XCTAssertTrue(phases.isSuperset(of: ["M", "X", "C", "s", "f", "i"]), "\(phases)")
        let processNames = events.filter { $0["name"] as? String == "process_name" }.compactMap {
            ($0["args"] as? [String: Any])?["name"] as? String
        }
        XCTAssertEqual(processNames.filter { $0.hasPrefix("cluster ") }.count, 4)
        XCTAssertTrue(processNames.contains("coordinator"))
        let threads = events.filter { $0["name"] as? String == "thread_name" }.compactMap {
            ($0["args"] as? [String: Any])?["name"] as? String
        }
        XCTAssertEqual(threads.filter { $0.hasPrefix("TBU ") }.count, 12)
        XCTAssertEqual(threads.filter { $0.hasPrefix("CBU ") }.count, 4)
        // Every flow ends (below); slices on one TBU never overlap.
        let starts = try checkEveryFlowEnds(events, rejectingParticipant: "cluster")
        XCTAssertFalse(starts.isEmpty)
        var lastEnd: [String: Double] = [:]
        for e in events where e["ph"] as? String == "X" && e["cat"] as? String != "layer" {
            let key = "\(e["pid"]!)/\(e["tid"]!)"
            let ts = e["ts"] as! Double
            let dur = e["dur"] as! Double
            XCTAssertGreaterThanOrEqual(ts + 1e-9, lastEnd[key] ?? 0, "overlapping slices on \(key)")
            lastEnd[key] = max(lastEnd[key] ?? 0, ts + dur)
        }
        // Layer slices tile their task block's slice exactly (Perfetto needs perfect nesting).
        let tasks = events.filter { $0["cat"] as? String == "task" }
        let layers = events.filter { $0["cat"] as? String == "layer" }
        XCTAssertGreaterThan(layers.count, tasks.count)
        for task in tasks.prefix(50) {
            let ts = task["ts"] as! Double
            let end = ts + (task["dur"] as! Double)
            let inside = layers.filter {
                $0["pid"] as! Int == task["pid"] as! Int && $0["tid"] as! Int == task["tid"] as! Int
                    && ($0["ts"] as! Double) >= ts - 1e-6 && ($0["ts"] as! Double) < end - 1e-6
            }
            let cycles = inside.reduce(0) { $0 + (($1["args"] as! [String: Any])["cycles"] as! Int) }
            XCTAssertEqual(cycles, (task["args"] as! [String: Any])["cycles"] as? Int)
        }
    }

    /// Every task flow that starts ends, once: at the slice its block starts, or — for a block
    /// rejected at a full queue (a cluster's, or the coordinator's central queue) — at the
    /// rejection, on that participant's events track. Returns the flow ids.
    @discardableResult
    func checkEveryFlowEnds(_ events: [[String: Any]], rejectingParticipant: String) throws -> [Int] {
        let starts = events.filter { $0["ph"] as? String == "s" }.compactMap { $0["id"] as? Int }
        let ends = events.filter { $0["ph"] as? String == "f" }.compactMap { $0["id"] as? Int }
        XCTAssertEqual(Set(starts).count, starts.count, "a flow id used twice")
        XCTAssertEqual(Set(starts).subtracting(ends), [], "flows that never end")
        XCTAssertEqual(ends.count, starts.count, "flows that end twice, or never started")
        let names = Dictionary(
            events.filter { $0["name"] as? String == "process_name" }.map {
                ($0["pid"] as! Int, ($0["args"] as! [String: Any])["name"] as! String)
            }, uniquingKeysWith: { a, _ in a })
        let rejections = Set(
            events.filter { $0["cat"] as? String == "rejected" }.map {
                XCTAssertEqual($0["s"] as? String, "t")
                XCTAssertEqual($0["tid"] as? Int, Int(TraceUnit.events))
                return "\($0["pid"]!)@\($0["ts"]!)"
            })
        let endsAtRejections = events.filter {
            $0["ph"] as? String == "f" && $0["tid"] as? Int == Int(TraceUnit.events)
        }
        XCTAssertGreaterThan(endsAtRejections.count, 0, "the run rejects no flow's block: the check is idle")
        for end in endsAtRejections {
            XCTAssertTrue(rejections.contains("\(end["pid"]!)@\(end["ts"]!)"), "\(end)")
            XCTAssertTrue(names[end["pid"] as! Int]?.hasPrefix(rejectingParticipant) == true, "\(end)")
        }
        return starts
    }

    /// The central queue (`fifo`) rejects blocks in the middle of their workflows when full: the
    /// rejections are the coordinator's, and so are the ends of the flows that brought the blocks.
    func testCentralQueueRejectionsEndTheirFlowsOnTheCoordinator() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-fifo-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (_, results) = try runInProcess(
            workload: "suite-small", scheduler: .standard("fifo"), edit: { $0.cluster.queueCapacity = 2 },
            tracePath: path)
        XCTAssertGreaterThan(results.overall.rejected, 0)
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        try checkEveryFlowEnds(object["traceEvents"] as! [[String: Any]], rejectingParticipant: "coordinator")
    }

    func testMicrosecondFormatting() throws {
        let config = try WaferConfigLoader.parse("mesh: {rows: 1, columns: 1}\nclock_mhz: 1000", file: "c.yaml")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-ts-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try ChromeTraceWriter(path: path, config: config, library: WorkflowLibrary([]))
        XCTAssertEqual(writer.ts(0), "0")
        XCTAssertEqual(writer.ts(1500), "1.5")
        XCTAssertEqual(writer.ts(1), "0.001")
        XCTAssertEqual(writer.ts(12_345_678), "12345.678")
        XCTAssertEqual(ChromeTraceWriter.quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"")
    }
}

final class TraceTimingTests: XCTestCase {
    /// The cycles a run's trace shows for each layer are what `octopus pea` reports for it.
    func testTraceLayerCyclesEqualThePEAReport() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-pea-trace-\(getpid()).json")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (session, _) = try runInProcess(tracePath: path)
        let config = session.coordinator.config
        let graph = session.coordinator.library.workflows.first { $0.name == "detect-classify" }!
        guard case .task(let detector) = graph.blocks[graph.index(of: "detector")!].kind else { return XCTFail() }
        let layers = detector.operations.compactMap { operation -> Layer? in
            if case .layer(let layer) = operation { return layer } else { return nil }
        }
        let report = PEAReport(layers: layers, array: config.cluster.peArray)
        let expected = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.name, Int($0.totalCycles)) })

        let events =
            (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any])[
                "traceEvents"] as! [[String: Any]]
        let tasks = events.filter {
            $0["cat"] as? String == "task" && $0["name"] as? String == "detect-classify/detector"
        }
        // A block split across arrays runs each layer in parts; the PEA report is for one array.
        let splitLeads = splitLeaders(events)
        let whole = tasks.filter { !splitLeads.contains(sliceKey($0)) }
        XCTAssertFalse(whole.isEmpty)
        let first = whole[0]
        let start = first["ts"] as! Double
        let end = start + (first["dur"] as! Double)
        let layerSlices = events.filter {
            $0["cat"] as? String == "layer" && $0["pid"] as? Int == first["pid"] as? Int
                && $0["tid"] as? Int == first["tid"] as? Int
                && ($0["ts"] as! Double) >= start - 1e-6 && ($0["ts"] as! Double) < end - 1e-6
        }
        XCTAssertEqual(layerSlices.count, layers.count)
        for slice in layerSlices {
            let name = slice["name"] as! String
            XCTAssertEqual((slice["args"] as! [String: Any])["cycles"] as? Int, expected[name], name)
        }
    }
}

final class DynamicShapeTests: XCTestCase {
    /// The encoder's shape is drawn per request: durations vary, each is the model's time for one
    /// allowed sequence length, and runs repeat exactly.
    func testPerRequestShapesVaryAndRepeat() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-dynamic-\(getpid())")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Queues long enough that no request is rejected on the way, so every encoder runs.
        let roomy: (inout WaferConfig) -> Void = { $0.cluster.queueCapacity = 1024 }
        let (session, results) = try runInProcess(edit: roomy, tracePath: directory + "/a.json")
        _ = try runInProcess(edit: roomy, tracePath: directory + "/b.json")
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: directory + "/a.json")),
            try Data(contentsOf: URL(fileURLWithPath: directory + "/b.json")))
        XCTAssertEqual(results.workflows["intent-classifier"]?.completed, 12)

        let config = session.coordinator.config
        let graph = session.coordinator.library.workflows.first { $0.name == "intent-classifier" }!
        guard case .task(let encoder) = graph.blocks[graph.index(of: "encoder")!].kind,
            case .model(let model) = encoder.operations[0]
        else {
            return XCTFail("the encoder's first operation is a per-request model")
        }
        let rest = encoder.operations.dropFirst().reduce(Cycle(0)) {
            $0 + $1.cycles(on: config.cluster.peArray, buffer: config.cluster.buffer)
        }
        let allowed = Set(
            (16...128).map {
                model.cycles(values: [$0], array: config.cluster.peArray, buffer: config.cluster.buffer) + rest
            })
        let events =
            (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/a.json")))
            as! [String: Any])["traceEvents"] as! [[String: Any]]
        let encoders = events.filter {
            $0["cat"] as? String == "task" && $0["name"] as? String == "intent-classifier/encoder"
        }
        XCTAssertEqual(encoders.count, 12, "one slice per request; split parts are on their own tracks")
        let splitLeads = splitLeaders(events)
        let durations = encoders.filter { !splitLeads.contains(sliceKey($0)) }.map {
            Cycle(($0["args"] as! [String: Any])["cycles"] as! Int)
        }
        for duration in durations {
            XCTAssertTrue(allowed.contains(duration), "\(duration) is the time of some sequence length in 16...128")
        }
        XCTAssertGreaterThan(Set(durations).count, durations.count / 2, "draws from 113 lengths are mostly distinct")
        // The table's lower bound (used for promises and predictions) is the shortest sentence.
        XCTAssertEqual(encoder.cycles(on: config.cluster.peArray, buffer: config.cluster.buffer), allowed.min())
    }

    func testDistributionsAreValidatedWhenLoading() {
        let topologies = repositoryRoot + "/Configs/topologies"
        func error(_ params: String) -> ConfigError? {
            do {
                _ = try WorkflowLoader.parse(
                    "name: w\nblocks:\n  - {name: a, task: [{model: bert-base-layer, params: {seq: \(params)}}]}",
                    file: "w.yaml", topologies: topologies)
                return nil
            } catch { return error as? ConfigError }
        }
        XCTAssertNil(error("{choice: [8, 64, 512]}"))
        XCTAssertEqual(error("{uniform: [64, 8]}")?.field, "blocks[0].task[0].params.seq.uniform")
        XCTAssertEqual(error("{normal: [64, 8]}")?.field, "blocks[0].task[0].params.seq.normal")
        XCTAssertEqual(error("{choice: []}")?.field, "blocks[0].task[0].params.seq.choice")
    }
}

/// Key of a slice for matching a split's lead slice with its parts: cluster, start, request.
func sliceKey(_ event: [String: Any]) -> String {
    "\(event["pid"]!)/\(event["ts"]!)/\((event["args"] as? [String: Any])?["request"] ?? "")"
}

/// Keys of task slices that lead a split (some other TBU shows a split part at the same time).
func splitLeaders(_ events: [[String: Any]]) -> Set<String> {
    Set(events.filter { $0["cat"] as? String == "split" }.map(sliceKey))
}
