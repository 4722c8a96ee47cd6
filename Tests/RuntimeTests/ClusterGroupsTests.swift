import XCTest

@testable import Runtime

/// Which clusters share a process: consecutive ids, at most the given number, never two hosts.
final class ClusterGroupsTests: XCTestCase {
    func testGroupsAreConsecutiveAndAtMostTheGivenSize() {
        XCTAssertEqual(ClusterGroups.partition(clusters: 16, perProcess: 1), (0..<16).map { $0..<($0 + 1) })
        XCTAssertEqual(ClusterGroups.partition(clusters: 16, perProcess: 8), [0..<8, 8..<16])
        XCTAssertEqual(ClusterGroups.partition(clusters: 4, perProcess: 3), [0..<3, 3..<4])
        XCTAssertEqual(ClusterGroups.partition(clusters: 5, perProcess: 64), [0..<5])
        XCTAssertEqual(ClusterGroups.partition(clusters: 0, perProcess: 4), [])
        for clusters in 1...40 {
            for perProcess in 1...9 {
                let groups = ClusterGroups.partition(clusters: clusters, perProcess: perProcess)
                XCTAssertEqual(groups.flatMap { Array($0) }, Array(0..<clusters), "every cluster once, in order")
                XCTAssertTrue(groups.allSatisfy { !$0.isEmpty && $0.count <= perProcess })
                XCTAssertEqual(groups.count, (clusters + perProcess - 1) / perProcess, "as few processes as allowed")
            }
        }
    }

    func testAGroupNeverSpansTwoHosts() {
        // Round-robin over two hosts: every cluster alone; by slots: runs per host, split by size.
        let roundRobin = ClusterGroups.partition(clusters: 4, perProcess: 4, host: { $0 % 2 == 0 ? "a" : "b" })
        XCTAssertEqual(roundRobin, [0..<1, 1..<2, 2..<3, 3..<4])
        let slots = ClusterGroups.partition(clusters: 10, perProcess: 4, host: { $0 < 6 ? "a" : "b" })
        XCTAssertEqual(slots, [0..<4, 4..<6, 6..<10])
    }
}
