import Foundation
import XCTest

/// `octopus transport-cost`: two real processes bounce messages over ZeroMQ; the command reports
/// what one costs, leaves no process behind, and refuses bad arguments clearly.
final class TransportCostTests: XCTestCase {
    func testMeasuresBothTransportsAndLeavesNoEchoProcess() throws {
        let directory = try makeTemporaryDirectory("transport-cost")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for transport in ["ipc", "tcp"] {
            let result = try octopus(
                [
                    "transport-cost", "--json", "--transport", transport, "--round-trips", "300", "--streamed", "2000",
                    "--bytes", "64",
                ],
                in: directory, name: transport, seconds: 60)
            XCTAssertEqual(result.status, 0, result.stderr)
            let data = Data(result.stdout.utf8)
            let fields = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], result.stdout)
            XCTAssertEqual(fields["transport"] as? String, transport)
            XCTAssertEqual(fields["round_trips"] as? Int, 300)
            XCTAssertEqual(fields["bytes"] as? Int, 64)
            XCTAssertEqual(fields["cores"] as? Int, ProcessInfo.processInfo.activeProcessorCount)
            let wall = try XCTUnwrap(fields["wall_seconds"] as? Double)
            let perRoundTrip = try XCTUnwrap(fields["wall_per_round_trip_seconds"] as? Double)
            XCTAssertEqual(perRoundTrip * 300, wall, accuracy: wall * 1e-9)
            // Both processes spent CPU on every message (ZeroMQ and the kernel never do it for free).
            let cpu = try XCTUnwrap(fields["cpu_seconds"] as? Double)
            XCTAssertGreaterThan(cpu, 0)
            XCTAssertEqual(try XCTUnwrap(fields["cpu_per_message_seconds"] as? Double), cpu / 600, accuracy: cpu * 1e-9)
            // Then 2,000 one way, back to back: every one received (the echo answers after the
            // last), with CPU spent on them by both processes.
            XCTAssertEqual(fields["streamed"] as? Int, 2000)
            XCTAssertGreaterThan(try XCTUnwrap(fields["stream_wall_seconds"] as? Double), 0)
            let streamCPU = try XCTUnwrap(fields["stream_cpu_seconds"] as? Double)
            XCTAssertGreaterThan(streamCPU, 0)
            XCTAssertEqual(
                try XCTUnwrap(fields["cpu_per_streamed_message_seconds"] as? Double), streamCPU / 2000,
                accuracy: streamCPU * 1e-9)
        }
        // None streamed: no per-message figure for them.
        let none = try octopus(
            ["transport-cost", "--json", "--round-trips", "50", "--streamed", "0"], in: directory, name: "none")
        XCTAssertEqual(none.status, 0, none.stderr)
        let noneFields = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(none.stdout.utf8)) as? [String: Any], none.stdout)
        XCTAssertEqual(noneFields["streamed"] as? Int, 0)
        XCTAssertNil(noneFields["cpu_per_streamed_message_seconds"])
        // The echo process ended with the measurement.
        XCTAssertTrue(eventually(5) { processes(matching: ["transport-cost", "--echo"]).isEmpty })

        let text = try octopus(
            ["transport-cost", "--round-trips", "50", "--streamed", "500"], in: directory, name: "text")
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("ZeroMQ over ipc://"), text.stdout)
        XCTAssertTrue(text.stdout.contains("CPU time per message"), text.stdout)
        XCTAssertTrue(text.stdout.contains("then 500 messages one way, back to back"), text.stdout)
        XCTAssertTrue(eventually(5) { processes(matching: ["transport-cost", "--echo"]).isEmpty })
    }

    /// `--cpus A,B`: the measuring process on CPU A, the echo process on CPU B — as reported.
    func testPinnedMeasurementsSayWhereTheyRan() throws {
        let directory = try makeTemporaryDirectory("transport-cost-cpus")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let allowed = try XCTUnwrap(allowedCPUs())
        var pairs = [(allowed[0], allowed[0])]
        if allowed.count >= 2 { pairs.append((allowed[0], allowed[1])) }
        for (measuring, echo) in pairs {
            let result = try octopus(
                [
                    "transport-cost", "--json", "--round-trips", "200", "--streamed", "500",
                    "--cpus", "\(measuring),\(echo)",
                ], in: directory, name: "pinned-\(echo)", seconds: 60)
            XCTAssertEqual(result.status, 0, result.stderr)
            let fields = try XCTUnwrap(
                JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
            XCTAssertEqual(fields["cpus"] as? [Int], [measuring, echo])
            XCTAssertGreaterThan(try XCTUnwrap(fields["cpu_per_message_seconds"] as? Double), 0)
        }
        let unpinned = try octopus(
            ["transport-cost", "--json", "--round-trips", "50", "--streamed", "0"], in: directory, name: "unpinned")
        let fields = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(unpinned.stdout.utf8)) as? [String: Any], unpinned.stdout)
        XCTAssertTrue(fields["cpus"] is NSNull, "\(String(describing: fields["cpus"]))")
        XCTAssertTrue(eventually(5) { processes(matching: ["transport-cost", "--echo"]).isEmpty })
    }

    func testBadArgumentsAreUsageErrors() throws {
        let directory = try makeTemporaryDirectory("transport-cost-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [([String], String)] = [
            (["--transport", "udp"], "--transport must be ipc or tcp"),
            (["--round-trips", "0"], "--round-trips must be 1 to 10000000"),
            (["--round-trips", "99999999999999"], "--round-trips must be 1 to 10000000"),
            (["--bytes", "0"], "--bytes must be between 1 and 1048576"),
            (["--streamed=-1"], "--streamed must be 0 to 10000000"),
            (["--streamed", "10000001"], "--streamed must be 0 to 10000000"),
            (["--cpus", "0"], "--cpus must be two CPU numbers A,B"),
            (["--cpus", "0,x"], "--cpus must be two CPU numbers A,B"),
            (["--cpus", "0,-1"], "--cpus must be two CPU numbers A,B"),
            (["--cpus", "0,100000"], "this machine's CPUs are numbered 0 to"),
        ]
        for (arguments, message) in cases {
            let result = try octopus(["transport-cost"] + arguments, in: directory, name: arguments[0])
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
        }
    }
}
