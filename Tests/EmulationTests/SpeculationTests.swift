import Foundation
import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// Speculative windows: run past the lookahead from a saved state, run again the receivers of
/// messages that arrive inside the window, commit when nothing changes. Results and traces must be
/// those of the exact execution.
final class SpeculationTests: XCTestCase {
    func testSpeculativeWindowsEqualTheExactExecutionForEveryScheduler() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-spec-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var reruns: UInt64 = 0
        var held: UInt64 = 0
        var avoided: UInt64 = 0
        for name in SchedulerRegistry.standard.names {
            let (exactSession, exact) = try runInProcess(
                workload: "suite-small", scheduler: .standard(name), tracePath: directory + "/exact.json")
            let (session, speculative) = try runInProcess(
                workload: "suite-small", scheduler: .standard(name), tracePath: directory + "/spec.json",
                speculation: Speculation(enabled: true))
            XCTAssertEqual(speculative, exact, name)
            // Speculation's snapshots share the queue's toggle log: what a rerun undoes must go too.
            XCTAssertEqual(
                try session.transport.collectStats(end: session.accountingEnd).map(\.idleTimeline),
                try exactSession.transport.collectStats(end: exactSession.accountingEnd).map(\.idleTimeline),
                "\(name): the same idle timeline")
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: directory + "/spec.json")),
                try Data(contentsOf: URL(fileURLWithPath: directory + "/exact.json")), "\(name): the same trace")
            XCTAssertGreaterThan(session.host.speculativeWindows, 0, name)
            XCTAssertEqual(speculative.emulation.causalityViolations, 0, name)
            XCTAssertEqual(exactSession.coordinator.records.count, session.coordinator.records.count, name)
            // Re-runs avoided were corrected: every cluster ends with the view the exact run left.
            XCTAssertEqual(
                (session.transport as! InProcessTransport).clusters.map(\.view),
                (exactSession.transport as! InProcessTransport).clusters.map(\.view), "\(name): the same final views")
            reruns += session.host.reruns
            held += session.host.heldMessages
            avoided += session.host.avoidedReruns
        }
        XCTAssertGreaterThan(reruns, 0, "messages inside speculative windows made clusters run again")
        XCTAssertGreaterThan(held, 0, "views and load signals were held for idle clusters")
        XCTAssertGreaterThan(avoided, 0, "changed views or signals a cluster would have absorbed late ran nobody again")
    }

    /// A cluster that never gets work absorbs the views broadcast to it: they are held, it sits
    /// out every window but the last (which hands them over, merged into one), and the run — results, event
    /// counts, the cluster's final view — equals the one that delivered every view on time.
    func testIdleClustersSitOutWindowsThatOnlyBroadcastViews() throws {
        // Entry blocks on cluster 0, successors on cluster 1; cluster 2 never runs anything.
        let (config, library, scheduler) = try Self.handOver(columns: 3, loadSignalPeriod: 1000, blockCycles: 5000)
        let injection = Injection(
            workflow: "pair", count: 20, arrival: .periodic(period: 3000, jitter: 0), start: 0, seed: 1)
        func run(windows: Bool, speculation: Speculation? = nil) throws -> (WaferSession, RunSummary.Results) {
            let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
            session.usesGlobalEventOrder = !windows
            if let speculation { session.speculation = speculation }
            try session.inject(injection)
            try session.runUntilIdle()
            let stats = try session.transport.collectStats(end: session.accountingEnd)
            return (session, SummaryBuilder.results(session: session, stats: stats))
        }
        let (oracleSession, oracle) = try run(windows: false)
        let oracleViews = (oracleSession.transport as! InProcessTransport).clusters.map(\.view)
        for speculation in [nil, Speculation(enabled: true)] {
            let (session, results) = try run(windows: true, speculation: speculation)
            let label = speculation == nil ? "conservative" : "speculative"
            XCTAssertEqual(results, oracle, label)
            XCTAssertEqual(results.overall.completed, 20, label)
            XCTAssertEqual((session.transport as! InProcessTransport).clusters.map(\.view), oracleViews, label)
            XCTAssertGreaterThan(session.host.heldMessages, 0, label)
            XCTAssertGreaterThan(session.host.mergedViews, 0, "\(label): the views held for cluster 2 were merged")
            // Clusters 0 and 1 work in most windows; cluster 2 only in the one handing over its views.
            let windows = session.synchronizer.windows
            XCTAssertLessThan(
                session.activeClusterWindows, 2 * windows + 2, "\(label): cluster 2 sat out the windows")
        }
    }

    /// A cluster busy with one long block absorbs the views broadcast to it meanwhile (nothing
    /// in it reacts to them before the block ends): they are held and it sits those windows out,
    /// and the run — results, event counts, every cluster's final view — equals the one in
    /// global event order.
    func testBusyClustersWaitingForALongBlockSitOutWindowsThatOnlyBroadcastViews() throws {
        let config = try WaferConfigLoader.parse(
            """
            mesh: {rows: 1, columns: 3}
            links: {intra_die: {hop_latency_cycles: 20}, control_latency_cycles: 10}
            cluster: {tbus: 1, load_signal_period_cycles: 1000}
            """, file: "busy.yaml")
        let library = WorkflowLibrary([
            try WorkflowLoader.parse(
                """
                name: pair
                blocks:
                  - {name: a, task: [{cycles: 5000}], output_bytes: 8, next: b}
                  - {name: b, task: [{cycles: 5000}], output_bytes: 8}
                """, file: "pair.yaml"),
            try WorkflowLoader.parse(
                """
                name: long
                blocks:
                  - {name: l, task: [{cycles: 200000}], output_bytes: 8}
                """, file: "long.yaml"),
        ])
        // The pair's blocks on clusters 0 and 1; the long block on cluster 2.
        struct ByWorkflow: PlacementPolicy {
            let name = "by-workflow"
            let usesRequestKey = false
            func place(_ request: PlacementRequest, in context: PlacementContext) -> Int {
                request.taskType.workflow == 1 ? 2 : request.origin == nil ? 0 : 1
            }
        }
        let scheduler = Scheduler(
            name: "by-workflow", controlPlane: .cbu, routing: .placement(ByWorkflow()), dispatch: FIFODispatch())
        let injections = [
            Injection(workflow: "pair", count: 20, arrival: .periodic(period: 3000, jitter: 0), start: 0, seed: 1),
            Injection(workflow: "long", count: 1, arrival: .burst, start: 0, seed: 2),
        ]
        func run(windows: Bool, speculation: Speculation? = nil) throws -> (WaferSession, RunSummary.Results) {
            let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
            session.usesGlobalEventOrder = !windows
            if let speculation { session.speculation = speculation }
            for injection in injections { try session.inject(injection) }
            try session.runUntilIdle()
            let stats = try session.transport.collectStats(end: session.accountingEnd)
            return (session, SummaryBuilder.results(session: session, stats: stats))
        }
        let (oracleSession, oracle) = try run(windows: false)
        let oracleViews = (oracleSession.transport as! InProcessTransport).clusters.map(\.view)
        for speculation in [nil, Speculation(enabled: true)] {
            let label = speculation == nil ? "conservative" : "speculative"
            let (session, results) = try run(windows: true, speculation: speculation)
            XCTAssertEqual(results, oracle, label)
            XCTAssertEqual(results.overall.completed, 21, label)
            XCTAssertEqual((session.transport as! InProcessTransport).clusters.map(\.view), oracleViews, label)
            XCTAssertGreaterThan(session.host.heldMessages, 0, label)
            guard speculation == nil else { continue }
            // Conservatively, windows run up to about 200,000 (the long block's end), with a view
            // for every cluster each 1,000 cycles. Clusters 0 and 1 work in the pair's windows, up
            // to about 65,000; cluster 2 takes part only around its block's start and end, not
            // in every window that brings a view (measured: 120 cluster runs in 253 windows, 210
            // messages held; when only idle clusters held them, 248 in 298 and 79).
            let windows = session.synchronizer.windows
            XCTAssertGreaterThan(windows, 150, label)
            XCTAssertLessThan(
                session.activeClusterWindows * 10, windows * 6,
                "\(label): cluster 2 sat out the windows of its long block")
            XCTAssertGreaterThan(session.host.heldMessages, 150, "\(label): the views for cluster 2 were held")
        }
        // Quantum windows (inexact) hold them too: cluster 2 sits out the windows of its long block
        // and every request still completes.
        var quantumConfig = config
        quantumConfig.sync = SyncConfig(mode: .quantum, window: 2000)
        let session = WaferSession.inProcess(config: quantumConfig, library: library, scheduler: scheduler)
        for injection in injections { try session.inject(injection) }
        try session.runUntilIdle()
        let results = SummaryBuilder.results(
            session: session, stats: try session.transport.collectStats(end: session.accountingEnd))
        XCTAssertEqual(results.overall.completed, 21, "quantum")
        XCTAssertGreaterThan(results.emulation.quantumDelayedMessages, 0, "quantum windows deferred hand-overs")
        // Measured: 59 cluster runs in 95 windows, 150 messages held; when only idle clusters held
        // them in quantum mode, 133 in 115 and 58.
        XCTAssertGreaterThan(session.host.heldMessages, 100, "quantum: the views for cluster 2 were held")
        XCTAssertLessThan(
            session.activeClusterWindows, session.synchronizer.windows,
            "quantum: cluster 2 sat out the windows of its long block")
    }

    /// Two clusters handing one request back and forth inside one long window: each hand-over
    /// arrives inside time its receiver has already run, so the receiver runs that time again.
    func testMessagesInsideOneWindowRunTheirReceiversAgain() throws {
        let config = try WaferConfigLoader.parse(
            """
            mesh: {rows: 1, columns: 2}
            links: {intra_die: {hop_latency_cycles: 20}, control_latency_cycles: 10}
            cluster: {tbus: 1, load_signal_period_cycles: 1000000000}
            """, file: "pingpong.yaml")
        let library = WorkflowLibrary([
            try WorkflowLoader.parse(
                """
                name: pingpong
                blocks:
                  - {name: a, task: [{cycles: 100}], output_bytes: 8, next: b}
                  - {name: b, task: [{cycles: 100}], output_bytes: 8, next: c}
                  - {name: c, task: [{cycles: 100}], output_bytes: 8}
                """, file: "pingpong.yaml")
        ])
        // Every successor goes to the other cluster; the entry block to cluster 0.
        struct OtherCluster: PlacementPolicy {
            let name = "other-cluster"
            let usesRequestKey = false
            func place(_ request: PlacementRequest, in context: PlacementContext) -> Int {
                request.origin.map { 1 - $0 } ?? 0
            }
        }
        let scheduler = Scheduler(
            name: "ping-pong", controlPlane: .cbu, routing: .placement(OtherCluster()), dispatch: FIFODispatch())
        let injection = Injection(workflow: "pingpong", count: 1, arrival: .burst, start: 0, seed: 1)
        func run(_ speculation: Speculation?) throws -> (WaferSession, RunSummary.Results) {
            let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
            session.usesGlobalEventOrder = false
            if let speculation { session.speculation = speculation }
            try session.inject(injection)
            try session.runUntilIdle()
            let stats = try session.transport.collectStats(end: session.accountingEnd)
            return (session, SummaryBuilder.results(session: session, stats: stats))
        }
        let (conservative, exact) = try run(nil)
        let (speculative, result) = try run(Speculation(enabled: true, length: 1_000_000))
        XCTAssertEqual(result, exact)
        XCTAssertEqual(result.overall.completed, 1)
        XCTAssertEqual(result.overall.latency?.maxCycles, exact.overall.latency?.maxCycles)
        // Conservatively every hand-over needs windows of its own; speculatively one window
        // holds the request from injection to outcome.
        XCTAssertGreaterThan(conservative.synchronizer.windows, 6)
        XCTAssertEqual(speculative.host.speculativeWindows, 3)
        XCTAssertEqual(speculative.synchronizer.windows, 4)
        // The coordinator runs first in every window (locally: no round). Window 1, [0, 10⁶), three
        // rounds: it injects a → cluster 0; round 1: cluster 0 runs a (→ b to cluster 1); round 2:
        // cluster 1 runs b (→ c to cluster 0); round 3: cluster 0 runs again from its snapshot,
        // now with c too (→ the outcome); the coordinator runs again with the outcome. Window 2,
        // at 10⁹: the coordinator's broadcast of the placement it noted and both clusters' load
        // ticks — one round (the views reach the clusters' first runs; the loads arrive after
        // the broadcast). Window 3, at 2·10⁹: the broadcast of those loads to the clusters, idle
        // now, which absorb views: held, no round. Window 4: the run is over, the held views
        // are handed over, one round.
        XCTAssertEqual(speculative.host.rounds, 3 + 1 + 0 + 1)
        XCTAssertEqual(speculative.host.heldMessages, 2)
        XCTAssertEqual(speculative.host.reruns, 1, "cluster 0 ran window 1 twice")

        // With at most 2 rounds a window, window 1 is abandoned after its second round: every
        // participant returns to the window's start and a conservative window runs instead (and
        // later speculative windows, shorter now, may be abandoned too).
        let (abandoning, fallback) = try run(Speculation(enabled: true, length: 1_000_000, maximumRounds: 2))
        XCTAssertEqual(fallback, exact)
        XCTAssertGreaterThanOrEqual(abandoning.host.abandonedWindows, 1)
        XCTAssertEqual(fallback.emulation.causalityViolations, 0)
    }

    /// Windows abandoned for conservative ones leave results and traces exactly as they are.
    func testAbandonedWindowsLeaveResultsAndTracesExact() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-abandon-\(getpid())")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["octopus", "fifo"] {
            let (_, exact) = try runInProcess(
                workload: "suite-small", scheduler: .standard(name), tracePath: directory + "/exact.json")
            let (session, abandoning) = try runInProcess(
                workload: "suite-small", scheduler: .standard(name), tracePath: directory + "/abandon.json",
                speculation: Speculation(enabled: true, maximumRounds: 1))
            XCTAssertEqual(abandoning, exact, name)
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: directory + "/abandon.json")),
                try Data(contentsOf: URL(fileURLWithPath: directory + "/exact.json")), "\(name): the same trace")
            XCTAssertGreaterThan(session.host.abandonedWindows, 0, "\(name): windows were abandoned")
            XCTAssertEqual(abandoning.emulation.causalityViolations, 0, name)
        }
    }

    /// Clusters hosted together run a speculative round's grants in one event order and hand
    /// each other their in-window envelopes at once (``ClusterGroupRunner``): for every scheduler
    /// and the suite in miniature, in groups of two and all four together, the results, the trace
    /// and every cluster's final view are the exact execution's.
    func testClustersRunTogetherEqualTheExactExecutionForEveryScheduler() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-together-\(getpid())")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let injections = try WorkloadLoader.load(
            path: repositoryRoot + "/Configs/workloads/suite-small.yaml", known: Set(library.names))
        func run(_ name: String, groups: [Range<Int>]?, trace: String) throws -> (WaferSession, RunSummary.Results) {
            let session = WaferSession.inProcess(config: config, library: library, scheduler: .standard(name))
            let writer = try ChromeTraceWriter(path: directory + "/" + trace, config: config, library: library)
            session.traceSink = writer
            if let groups {
                session.usesGlobalEventOrder = false
                session.speculation = Speculation(enabled: true)
                (session.transport as! InProcessTransport).groups = groups
            }
            for injection in injections { try session.inject(injection) }
            try session.runUntilIdle()
            try writer.close()
            return (session, SummaryBuilder.results(session: session, stats: try session.collectStats()))
        }
        var apart: UInt64 = 0
        var together: UInt64 = 0
        for name in SchedulerRegistry.standard.names {
            let (oracleSession, oracle) = try run(name, groups: nil, trace: "oracle.json")
            let oracleTrace = try Data(contentsOf: URL(fileURLWithPath: directory + "/oracle.json"))
            for groups in [[], [0..<2, 2..<4], [0..<4]] {
                let label = "\(name) groups \(groups)"
                let (session, results) = try run(name, groups: groups, trace: "grouped.json")
                XCTAssertEqual(results, oracle, label)
                XCTAssertEqual(
                    try Data(contentsOf: URL(fileURLWithPath: directory + "/grouped.json")), oracleTrace, label)
                XCTAssertEqual(
                    (session.transport as! InProcessTransport).clusters.map(\.view),
                    (oracleSession.transport as! InProcessTransport).clusters.map(\.view), label)
                XCTAssertEqual(results.emulation.causalityViolations, 0, label)
                if groups.isEmpty { apart += session.host.rounds }
                if groups.count == 1 { together += session.host.rounds }
            }
        }
        XCTAssertLessThan(together, apart, "hand-overs inside one process need no round")
    }

    /// Two clusters handing work to each other inside every speculative window: run apart, the
    /// receiver runs each window again; run together, it takes the hand-over at once and no
    /// window needs a second run — with the same results.
    func testAHandOverInsideAGroupNeedsNoRerun() throws {
        // Entry blocks on cluster 0, their successors on cluster 1: a hand-over every request.
        let (config, library, scheduler) = try Self.handOver(
            columns: 2, loadSignalPeriod: 100_000, blockCycles: 2000)
        func run(groups: [Range<Int>]?) throws -> (WaferSession, RunSummary.Results) {
            let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
            if let groups {
                session.usesGlobalEventOrder = false
                session.speculation = Speculation(
                    enabled: true, length: 50_000, minimumLength: 50_000, maximumLength: 50_000)
                (session.transport as! InProcessTransport).groups = groups
            }
            try session.inject(
                Injection(workflow: "pair", count: 30, arrival: .periodic(period: 3000, jitter: 0), start: 0, seed: 1))
            try session.runUntilIdle()
            return (session, SummaryBuilder.results(session: session, stats: try session.collectStats()))
        }
        let (_, oracle) = try run(groups: nil)
        let (apart, apartResults) = try run(groups: [])
        let (together, togetherResults) = try run(groups: [0..<2])
        XCTAssertEqual(apartResults, oracle)
        XCTAssertEqual(togetherResults, oracle)
        XCTAssertEqual(oracle.overall.completed, 30)
        XCTAssertGreaterThan(apart.host.reruns, 0, "apart, the receiver ran windows again")
        XCTAssertEqual(together.host.reruns, 0, "together, no window ran twice")
        XCTAssertLessThan(together.host.rounds, apart.host.rounds)
    }

    /// A 1×`columns` wafer of one-TBU clusters and a two-block workflow whose entry block runs
    /// on cluster 0 and whose successor runs on cluster 1 (a hand-over every request).
    private static func handOver(
        columns: Int, loadSignalPeriod: Int, blockCycles: Int
    ) throws -> (WaferConfig, WorkflowLibrary, Scheduler) {
        let config = try WaferConfigLoader.parse(
            """
            mesh: {rows: 1, columns: \(columns)}
            links: {intra_die: {hop_latency_cycles: 20}, control_latency_cycles: 10}
            cluster: {tbus: 1, load_signal_period_cycles: \(loadSignalPeriod)}
            """, file: "hand-over.yaml")
        let library = WorkflowLibrary([
            try WorkflowLoader.parse(
                """
                name: pair
                blocks:
                  - {name: a, task: [{cycles: \(blockCycles)}], output_bytes: 8, next: b}
                  - {name: b, task: [{cycles: \(blockCycles)}], output_bytes: 8}
                """, file: "pair.yaml")
        ])
        struct FirstTwo: PlacementPolicy {
            let name = "first-two"
            let usesRequestKey = false
            func place(_ request: PlacementRequest, in context: PlacementContext) -> Int {
                request.origin == nil ? 0 : 1
            }
        }
        let scheduler = Scheduler(
            name: "first-two", controlPlane: .cbu, routing: .placement(FirstTwo()), dispatch: FIFODispatch())
        return (config, library, scheduler)
    }
}
