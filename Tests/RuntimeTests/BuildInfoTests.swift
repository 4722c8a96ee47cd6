import Emulation
import Foundation
import XCTest

@testable import Runtime

final class BuildInfoTests: XCTestCase {
    /// The test executable's own build ID is read (the linker writes one into every executable
    /// here), as 40 hex digits.
    func testTheRunningExecutableHasABuildID() throws {
        let id = try XCTUnwrap(BuildInfo.id)
        XCTAssertEqual(id.count, 40)
        XCTAssertTrue(id.allSatisfy(\.isHexDigit), id)
        XCTAssertTrue(BuildInfo.description.contains(id))
        XCTAssertEqual(BuildInfo.record.wireProtocol, ClusterProtocol.version)
    }

    /// Only clusters of another build are listed, grouped by build in order of first cluster;
    /// an unknown build (nil) is a build of its own.
    func testClustersOfOtherBuildsAreGroupedByBuild() {
        XCTAssertNil(BuildInfo.otherBuilds(["a", "a", "a"], this: "a"))
        XCTAssertNil(BuildInfo.otherBuilds([], this: "a"))
        XCTAssertEqual(
            BuildInfo.otherBuilds(["a", "b", nil, "b", "a", nil, "c"], this: "a"),
            [
                RunSummary.ClusterBuild(build: "b", clusters: [1, 3]),
                RunSummary.ClusterBuild(build: nil, clusters: [2, 5]),
                RunSummary.ClusterBuild(build: "c", clusters: [6]),
            ])
        XCTAssertEqual(
            BuildInfo.otherBuilds(["a", nil], this: nil), [RunSummary.ClusterBuild(build: "a", clusters: [0])])
    }

    /// A build ID is held to the rule of host names: a peer cannot write escapes or lines into
    /// the coordinator's log through it.
    func testARegistrationsBuildMustBePrintable() {
        var registration = ClusterProtocol.Registration(cluster: 0, pid: 1, host: "h", wire: ClusterProtocol.version)
        registration.build = "0123abcd"
        XCTAssertNil(registration.nameProblem)
        registration.build = "abc\nwarning: forged"
        XCTAssertEqual(
            registration.nameProblem, "its build name is empty, longer than 255 bytes or has control characters")
        registration.build = String(repeating: "a", count: 256)
        XCTAssertNotNil(registration.nameProblem)
    }
}
