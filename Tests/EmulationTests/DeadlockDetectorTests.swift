import XCTest

@testable import Emulation

/// The coordinator's deadlock test for flow control (docs/configuration.md, "Back-pressure").
final class DeadlockDetectorTests: XCTestCase {
    func stall(_ cluster: Int32, waiting: [(Int32, UInt32)], holding: [(Int32, UInt32)]) -> FlowStall {
        FlowStall(
            cluster: cluster, stalled: true, waiting: waiting.map { CreditCount(cluster: $0.0, count: $0.1) },
            holding: holding.map { CreditCount(cluster: $0.0, count: $0.1) })
    }

    func testTwoStalledClustersHoldingEachOthersCreditsAreDeadlocked() {
        var detector = DeadlockDetector()
        detector.update(stall(3, waiting: [(5, 2)], holding: [(5, 1)]))
        XCTAssertNil(detector.deadlock(), "cluster 5 has not said it is stalled")
        detector.update(stall(5, waiting: [(3, 1)], holding: [(3, 2)]))
        XCTAssertEqual(detector.deadlock(), [3, 5, 3])
        // Cluster 5 runs again: nothing is stuck for ever.
        detector.update(FlowStall(cluster: 5, stalled: false))
        XCTAssertNil(detector.deadlock())
    }

    func testACreditInFlightIsNotADeadlock() {
        var detector = DeadlockDetector()
        // Cluster 3 spent 2 credits on 5, but 5 holds only one of its blocks: the other started
        // there and its credit is on its way back.
        detector.update(stall(3, waiting: [(5, 2)], holding: [(5, 1)]))
        detector.update(stall(5, waiting: [(3, 1)], holding: [(3, 1)]))
        XCTAssertNil(detector.deadlock())
    }

    func testWaitingForARunningClusterIsNotADeadlock() {
        var detector = DeadlockDetector()
        detector.update(stall(0, waiting: [(0, 1), (1, 1)], holding: [(0, 1)]))
        XCTAssertNil(detector.deadlock(), "cluster 1 is not stalled: it will start cluster 0's block")
    }

    func testAClusterFullOfItsOwnBlocksIsDeadlockedAlone() {
        var detector = DeadlockDetector()
        detector.update(stall(2, waiting: [(2, 8)], holding: [(2, 8)]))
        XCTAssertEqual(detector.deadlock(), [2, 2])
        let error = FlowDeadlock(time: 100, cycle: [2, 2], credits: 8)
        XCTAssertTrue(error.description.contains("clusters 2 → 2"))
        XCTAssertTrue(error.description.contains("cluster.flow_credits 8"))
    }
}
