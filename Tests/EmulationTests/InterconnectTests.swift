import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// The contention link model against hand-computed times (docs/configuration.md, "Link
/// contention"): a 1×4 row of clusters, 20-cycle hops at 64 bytes per cycle, so a 6,400-byte
/// transfer serialises in 100 cycles.
final class InterconnectTests: XCTestCase {
    let bytes: UInt64 = 6_400

    func makeWafer(columns: Int = 4, extra: String = "") throws -> (WaferConfig, WorkflowLibrary) {
        let config = try WaferConfigLoader.parse(
            """
            mesh: {rows: 1, columns: \(columns)}
            links: {intra_die: {hop_latency_cycles: 20, bandwidth_bytes_per_cycle: 64}, model: contention\(extra)}
            """, file: "c.yaml")
        let library = WorkflowLibrary([
            try WorkflowLoader.parse(
                """
                name: one
                blocks:
                  - {name: work, task: [{cycles: 1000}], output_bytes: 8}
                """, file: "w.yaml")
        ])
        return (config, library)
    }

    /// Sends each `(source, destination)` transfer at cycle 0 (in list order) and returns the
    /// cycle each one's last byte is through its destination's ejection port, in the same order.
    func arrivals(_ transfers: [(Int, Int)], config: WaferConfig, library: WorkflowLibrary) -> [Cycle] {
        let engines = (0..<config.clusterCount).map {
            ClusterEngine(id: $0, config: config, library: library, scheduler: .standard("least-loaded"))
        }
        for (index, (source, destination)) in transfers.enumerated() {
            let task = TaskMessage(
                request: UInt64(index), taskType: TaskType(workflow: 0, block: 0), bytes: bytes, injected: 0)
            engines[source].sendOverMesh(task, to: destination, at: 0)
        }
        // Conservative lockstep: whatever is sent before `t + lookahead` arrives no earlier.
        var arrivals: [UInt64: Cycle] = [:]
        var now: Cycle = 0
        let step = config.lookahead
        while arrivals.count < transfers.count && now < 100_000 {
            for engine in engines { engine.advance(before: now + step) }
            for engine in engines {
                for envelope in engine.takeEnvelopes() {
                    guard let destination = envelope.destination.clusterIndex else { continue }
                    engines[destination].receive(envelope)
                }
                for record in engine.takeTrace() {
                    if case .slice(_, _, let start, _, let kind, _, let request) = record.record, kind == .task {
                        // Blocks start at once on arrival when a TBU is free; reconfiguration comes first.
                        arrivals[request] = start - config.cluster.reconfigurationCycles
                    }
                }
            }
            now += step
        }
        return (0..<transfers.count).map { arrivals[UInt64($0)] ?? .never }
    }

    func testAloneATransferTakesTheDelayModelsTime() throws {
        let (config, library) = try makeWafer()
        XCTAssertEqual(arrivals([(0, 3)], config: config, library: library), [3 * 20 + 100])
        XCTAssertEqual(config.mesh.transferLatency(from: 0, to: 3, bytes: bytes), 3 * 20 + 100)
    }

    func testTwoTransfersOnOneRouteSerialiseOneAfterTheOther() throws {
        let (config, library) = try makeWafer()
        // The second waits for the first's 100 cycles on every resource: it arrives 100 later.
        XCTAssertEqual(arrivals([(0, 3), (0, 3)], config: config, library: library), [160, 260])
    }

    func testTransfersMeetingOnOneLinkQueueThere() throws {
        let (config, library) = try makeWafer()
        // 1→3 takes link 1→2 at 0 until 100 and arrives as if alone (2 × 20 + 100); 0→2's first
        // byte reaches router 1 at 20 and waits until 100, its last byte leaves at 200 and is
        // through router 2's ejection port at 220 (alone: 140).
        XCTAssertEqual(arrivals([(0, 2), (1, 3)], config: config, library: library), [220, 140])
    }

    func testDisjointRoutesAndOppositeDirectionsDoNotInterfere() throws {
        let (config, library) = try makeWafer()
        XCTAssertEqual(
            arrivals([(0, 1), (2, 3), (1, 0), (3, 2)], config: config, library: library), [120, 120, 120, 120])
    }

    func testANarrowPortIsTheBottleneckOfTwoTransfersToOneCluster() throws {
        // Ports of 32 bytes per cycle: alone 20 + 200 (the port serialises 6,400 bytes in 200).
        let (config, library) = try makeWafer(columns: 3, extra: ", port_bandwidth_bytes_per_cycle: 32")
        XCTAssertEqual(arrivals([(0, 1)], config: config, library: library), [220])
        // From both sides into cluster 1: the links are separate, the ejection port is shared.
        XCTAssertEqual(arrivals([(0, 1), (2, 1)], config: config, library: library), [220, 420])
    }

    func testRouterPortsReserveFirstComeFirstServed() {
        var ports = RouterPorts()
        let east = RouterPorts.Resource.east.rawValue
        // Alone: starts at its head, ends after its serialisation.
        XCTAssertTrue(ports.reserve(east, head: 10, tail: 10, bytes: 640, bandwidth: 64) == (10, 20))
        // Behind it: starts when the link frees.
        XCTAssertTrue(ports.reserve(east, head: 12, tail: 12, bytes: 64, bandwidth: 64) == (20, 21))
        // A last byte arriving late holds the link until it has passed (cut-through from a slower link).
        XCTAssertTrue(ports.reserve(east, head: 30, tail: 90, bytes: 64, bandwidth: 64) == (30, 90))
        // Other resources are independent.
        XCTAssertTrue(
            ports.reserve(RouterPorts.Resource.west.rawValue, head: 0, tail: 0, bytes: 64, bandwidth: 64) == (0, 1))
    }

    func testPortBandwidthNeedsTheContentionModel() {
        XCTAssertThrowsError(
            try WaferConfigLoader.parse(
                "mesh: {rows: 1, columns: 2}\nlinks: {port_bandwidth_bytes_per_cycle: 8}\n", file: "p.yaml")
        ) { error in
            XCTAssertTrue("\(error)".contains("p.yaml:2"), "\(error)")
            XCTAssertTrue("\(error)".contains("model: contention"), "\(error)")
        }
        XCTAssertThrowsError(
            try WaferConfigLoader.parse("mesh: {rows: 1, columns: 2}\nlinks: {model: fluid}\n", file: "m.yaml")
        ) { error in
            XCTAssertTrue("\(error)".contains("delay"), "\(error)")
        }
    }
}
