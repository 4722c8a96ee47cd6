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

/// The grants of one round for the clusters of one process travel as one GRANTS message to its
/// first cluster's socket (even a grant for one of them alone), and their reports come back as one
/// REPORTS message from there.
final class GrantBatchingTests: XCTestCase {
    private func report(window: UInt64, events: UInt64, livePeers: [Int] = []) -> [UInt8] {
        ClusterProtocol.encode(
            ClusterProtocol.Report(
                window: window, nextEvent: .never, earliestOutput: 7, events: events, computeNanos: 1, absorbs: [],
                envelopes: [], trace: [], livePeers: livePeers))[1]
    }

    func testBatchesRoundTripAndRefuseMalformedBytes() throws {
        let items: [(cluster: Int, body: [UInt8])] = [(3, [1, 2, 3]), (4, []), (9, report(window: 2, events: 5))]
        let frames = ClusterProtocol.batch(.reports, items)
        let (tag, body) = try ClusterProtocol.parse(frames)
        XCTAssertEqual(tag, .reports)
        let decoded = try ClusterProtocol.unbatch(body)
        XCTAssertEqual(decoded.map(\.cluster), [3, 4, 9])
        XCTAssertEqual(decoded.map(\.body), items.map(\.body))
        for cut in [0, 3, 4, 8, body.count / 2, body.count - 1] {
            XCTAssertThrowsError(try ClusterProtocol.unbatch(Array(body.prefix(cut))), "truncated at \(cut)")
        }
        XCTAssertThrowsError(try ClusterProtocol.unbatch(body + [0]), "trailing byte")
        XCTAssertThrowsError(try ClusterProtocol.unbatch([255, 255, 255, 255]), "implausible count")
        XCTAssertThrowsError(
            try ClusterProtocol.unbatch([1, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0]), "string past the end")
    }

    func testClustersNamingOneProcessShareItsFirstClusterAsLeader() {
        func registration(_ cluster: Int, _ process: String?) -> ClusterProtocol.Registration {
            ClusterProtocol.Registration(
                cluster: cluster, pid: 1, host: "h", wire: ClusterProtocol.version, process: process)
        }
        let registered = [
            0: registration(0, nil), 1: registration(1, "a"), 2: registration(2, "a"), 3: registration(3, "b"),
            4: registration(4, "a"), 5: registration(5, nil),
        ]
        // Same pid and host but no process name: one process each (pids repeat across containers).
        XCTAssertEqual(CoordinatorServer.processLeaders(registered, count: 6), [0, 1, 1, 3, 1, 5])
    }

    /// Over real sockets: the leader gets one GRANTS for both of its clusters, a REPORTS from it
    /// is taken for both, and a REPORTS from a socket that does not lead them is refused.
    func testOneMessageEachWayPerProcessAndOnlyFromItsLeader() throws {
        let context = try Context()
        let router = try context.socket(.router)
        defer { router.close() }
        let endpoint = "inproc://batching-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try router.bind(endpoint)
        let dealers = try (0..<3).map { cluster -> Socket in
            let dealer = try context.socket(.dealer)
            try dealer.setRoutingID("cluster-\(cluster)")
            try dealer.connect(endpoint)
            return dealer
        }
        defer { for dealer in dealers { dealer.close() } }
        var pipeEnds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&pipeEnds), 0)
        defer {
            close(pipeEnds[0])
            close(pipeEnds[1])
        }
        let transport = RemoteClusterTransport(router: router, clusterCount: 3, wakeDescriptor: pipeEnds[0])
        transport.processLeader = [0, 0, 2]  // clusters 0 and 1 in one process, 2 alone
        let plan = WindowPlan(index: 4, start: 0, end: 100)
        // The reports wait in the sockets before the grants go out (the transport reads them after).
        try dealers[0].send(
            ClusterProtocol.batch(.reports, [(1, report(window: 4, events: 11)), (0, report(window: 4, events: 10))]))
        try dealers[2].send(ClusterProtocol.frames(.report, report(window: 4, events: 12)))
        // One view update broadcast to all three clusters.
        let update = Message.view(LoadViewUpdate(time: 90, clusters: [ClusterLoad(cluster: 2, tbus: 4, busyTBUs: 3)]))
        let view = (0..<3).map { cluster in
            Envelope(
                source: .coordinator, destination: .cluster(cluster), sendTime: 90, arrival: 190, sequence: 5,
                message: update)
        }
        let reports = try transport.run(
            plan, speculative: true,
            runs: [
                WindowRun(cluster: 0, inputs: [view[0]]), WindowRun(cluster: 1, inputs: [view[1]]),
                WindowRun(cluster: 2, inputs: [view[2]]),
            ])
        XCTAssertEqual(reports.map(\.cluster), [0, 1, 2])
        XCTAssertEqual(reports.map(\.events), [10, 11, 12])
        // What the dealers got: one GRANTS for clusters 0 and 1 on the leader, carrying the view
        // once for both, and one GRANT for 2, holding its own.
        let leader = try XCTUnwrap(try dealers[0].receive(dontWait: true))
        let (tag, body) = try ClusterProtocol.parse(leader)
        XCTAssertEqual(tag, .grants)
        let (shared, items) = try ClusterProtocol.unbatchGrants(body)
        XCTAssertEqual(items.map(\.cluster), [0, 1])
        XCTAssertEqual(shared, [update])
        XCTAssertEqual(
            try items.map { try ClusterProtocol.decodeGrant($0.body, shared: shared).inputs }, [[view[0]], [view[1]]])
        XCTAssertNil(
            try dealers[1].receive(dontWait: true), "the second cluster of a process gets no message of its own")
        let lone = try ClusterProtocol.parse(XCTUnwrap(try dealers[2].receive(dontWait: true)))
        XCTAssertEqual(lone.0, .grant)
        XCTAssertEqual(try ClusterProtocol.decodeGrant(lone.1).inputs, [view[2]])

        // Cluster 2 reporting for cluster 1 (another process's) is refused.
        try dealers[2].send(ClusterProtocol.batch(.reports, [(1, report(window: 5, events: 1))]))
        XCTAssertThrowsError(
            try transport.run(
                WindowPlan(index: 5, start: 100, end: 200), speculative: true, runs: [WindowRun(cluster: 1)])
        ) { error in
            XCTAssertTrue("\(error)".contains("cluster 2 reported for cluster 1"), "\(error)")
        }

        // A cluster claiming to have run together with a cluster of another process is refused.
        try dealers[2].send(ClusterProtocol.frames(.report, report(window: 6, events: 1, livePeers: [0, 2])))
        XCTAssertThrowsError(
            try transport.run(
                WindowPlan(index: 6, start: 200, end: 300), speculative: true,
                runs: [WindowRun(cluster: 0), WindowRun(cluster: 2)])
        ) { error in
            XCTAssertTrue("\(error)".contains("cluster 2 claims to have run together with cluster 0"), "\(error)")
        }

        // A grant for one cluster of a process of several still goes to its leader, as GRANTS
        // (such a process watches only that socket while the wafer runs).
        try dealers[0].send(ClusterProtocol.batch(.reports, [(1, report(window: 7, events: 3))]))
        let alone = try transport.run(
            WindowPlan(index: 7, start: 300, end: 400), speculative: true, runs: [WindowRun(cluster: 1)])
        XCTAssertEqual(alone.map(\.events), [3])
        var received: [[[UInt8]]] = []
        while let frames = try dealers[0].receive(dontWait: true) { received.append(frames) }
        let last = try ClusterProtocol.parse(XCTUnwrap(received.last))
        XCTAssertEqual(last.0, .grants)
        XCTAssertEqual(try ClusterProtocol.unbatchGrants(last.1).items.map(\.cluster), [1])
        XCTAssertNil(try dealers[1].receive(dontWait: true), "no grant ever reaches a process's second socket")
    }
}
