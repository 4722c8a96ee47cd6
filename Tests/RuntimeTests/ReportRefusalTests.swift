import Emulation
import Foundation
import Scheduling
import WaferModel
import XCTest
import ZeroMQ

@testable import Runtime

#if canImport(Glibc)
    import Glibc
#endif

/// Over real sockets: a well-formed report that names something the wafer does not have (a
/// message kind clusters never send, a workflow not in the library, a trace record of another
/// cluster), a promise before the window's end or a request finishing before its injection is
/// refused before the coordinator routes, records or plans with any of it — a protocol error
/// naming the cluster, which stops the run cleanly — while an honest report is taken; so are
/// statistics that speak for another cluster.
final class ReportRefusalTests: XCTestCase {
    func testReportsNamingWhatTheWaferDoesNotHaveAreRefusedBeforeUse() throws {
        let config = try WaferConfigLoader.load(path: SetupWireTests.root + "/Configs/wafers/small-2x2.yaml")
        let library = try WorkflowLibrary.load(directory: SetupWireTests.root + "/Configs/workflows")
        let context = try Context()
        let router = try context.socket(.router)
        defer { router.close() }
        let endpoint = "inproc://refusal-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try router.bind(endpoint)
        let dealers = try (0..<config.clusterCount).map { cluster -> Socket in
            let dealer = try context.socket(.dealer)
            try dealer.setRoutingID("cluster-\(cluster)")
            try dealer.connect(endpoint)
            return dealer
        }
        defer { for dealer in dealers { dealer.close() } }
        let dealer = dealers[1]
        var pipeEnds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&pipeEnds), 0)
        defer {
            close(pipeEnds[0])
            close(pipeEnds[1])
        }
        let transport = RemoteClusterTransport(
            router: router, clusterCount: config.clusterCount, wakeDescriptor: pipeEnds[0],
            reportCheck: ReportCheck(config: config, library: library, scheduler: .octopus))

        let type = TaskType(workflow: 0, block: library[0].entry)
        func envelope(_ message: Message, to destination: ParticipantID) -> Envelope {
            Envelope(
                source: .cluster(1), destination: destination, sendTime: 150, arrival: 250, sequence: 1,
                message: message)
        }
        func report(
            window: UInt64, next: Cycle = .never, envelopes: [Envelope] = [], trace: [TimedTraceRecord] = []
        ) -> [[UInt8]] {
            ClusterProtocol.encode(
                ClusterProtocol.Report(
                    window: window, nextEvent: next, earliestOutput: .never, events: 1, computeNanos: 1, absorbs: [],
                    envelopes: envelopes, trace: trace, livePeers: []))
        }
        let honest = envelope(
            .task(TaskMessage(request: 1, taskType: type, bytes: 8, injected: 100)), to: .cluster(2))
        let cases: [(report: [[UInt8]], says: String)] = [
            (report(window: 1, envelopes: [honest]), ""),
            (
                report(
                    window: 2,
                    envelopes: [honest, envelope(.view(LoadViewUpdate(time: 1, clusters: [])), to: .coordinator)]),
                "cluster 1 reported a view message to coordinator, which clusters never send in window 2"
            ),
            (
                report(
                    window: 3,
                    envelopes: [
                        envelope(
                            .outcome(
                                RequestOutcome(
                                    request: 1, workflow: 999, injected: 1, finished: 2, status: .completed,
                                    tasksDone: 1, cluster: 1)), to: .coordinator)
                    ]), "workflow 999 is not in the wafer's library"
            ),
            (
                report(
                    window: 4,
                    trace: [
                        TimedTraceRecord(
                            time: 150, record: .rejected(cluster: 3, time: 150, request: 1, taskType: type))
                    ]), "a rejection: it speaks for cluster 3"
            ),
            (report(window: 5, next: 120), "its next event at cycle 120 lies before the window's end 200"),
            (
                report(
                    window: 6,
                    envelopes: [
                        envelope(
                            .outcome(
                                RequestOutcome(
                                    request: 1, workflow: 0, injected: 140, finished: 120, status: .completed,
                                    tasksDone: 1, cluster: 1)), to: .coordinator)
                    ]), "request 1 injected at cycle 140 and finished at 120"
            ),
        ]
        for (index, item) in cases.enumerated() {
            let window = UInt64(index + 1)
            try dealer.send(item.report)
            let plan = WindowPlan(index: window, start: 100, end: 200)
            if item.says.isEmpty {
                let reports = try transport.run(plan, speculative: true, runs: [WindowRun(cluster: 1)])
                XCTAssertEqual(reports.map(\.envelopes), [[honest]], "the honest report is taken")
            } else {
                XCTAssertThrowsError(try transport.run(plan, speculative: true, runs: [WindowRun(cluster: 1)])) {
                    XCTAssertTrue($0 is WireError, "\($0)")
                    XCTAssertTrue("\($0)".contains(item.says), "\($0)")
                }
            }
            while try dealer.receive(dontWait: true) != nil {}  // the grant
        }

        // Statistics at the end: cluster 1 sends another cluster's; the others their own.
        for (cluster, socket) in dealers.enumerated() {
            let stats = ClusterStats(cluster: cluster == 1 ? 2 : cluster, tbus: config.mesh.workingTBUs(of: cluster))
            try socket.send(ClusterProtocol.encodeStats(stats))
        }
        XCTAssertThrowsError(try transport.collectStats(end: 1000)) {
            XCTAssertTrue("\($0)".contains("cluster 1 reported statistics: it speaks for cluster 2"), "\($0)")
        }
    }
}
