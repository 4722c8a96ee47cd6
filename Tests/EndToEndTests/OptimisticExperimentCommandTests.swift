import Foundation
import XCTest

/// `octopus optimistic-experiment`: the Time Warp experiment from the command line — the same
/// results as the oracle, its counts as JSON, bad arguments refused clearly.
final class OptimisticExperimentCommandTests: XCTestCase {
    func testCountsARunThatEndsInTheOraclesResults() throws {
        let directory = try makeTemporaryDirectory("optimistic")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try octopus(
            [
                "optimistic-experiment", "--wafer", repositoryRoot + "/Configs/wafers/small-2x2.yaml",
                "--workflows", repositoryRoot + "/Configs/workflows",
                "--workload", repositoryRoot + "/Configs/workloads/small.yaml", "--steps", "8", "--optimism", "5000",
            ], in: directory, name: "run")
        XCTAssertEqual(result.status, 0, result.stderr)
        let fields = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(fields["same_results"] as? Bool, true)
        XCTAssertEqual(fields["steps"] as? Int, 8)
        XCTAssertEqual(fields["optimism"] as? Int, 5000)
        let executed = try XCTUnwrap(fields["events_executed"] as? Int)
        let committed = try XCTUnwrap(fields["events_committed"] as? Int)
        XCTAssertGreaterThan(committed, 0)
        XCTAssertGreaterThanOrEqual(executed, committed)
        XCTAssertGreaterThan(try XCTUnwrap(fields["rounds"] as? Int), 0)
        XCTAssertGreaterThan(try XCTUnwrap(fields["task_blocks"] as? Int), 0)
    }

    func testBadArgumentsAreUsageErrors() throws {
        let directory = try makeTemporaryDirectory("optimistic-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [([String], String)] = [
            (["--steps", "0"], "--steps must be 1 to 1000000"),
            (["--optimism", "0"], "--optimism must be 1 to"),
        ]
        for (arguments, message) in cases {
            let result = try octopus(["optimistic-experiment"] + arguments, in: directory, name: arguments[0])
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
        }
    }
}
