import Foundation
import XCTest

/// `--trace-format perfetto`: the protobuf trace decodes with the PyPI `perfetto` package's
/// definitions and holds exactly the JSON trace's slices (track, start, duration, name, category),
/// instants and counter values, in zlib-compressed chunks at least 5× smaller than the JSON; it is
/// the same file in one process and across processes.
final class PerfettoTraceTests: XCTestCase {
    /// The suite's Python with the perfetto protos (scripts/test installs them into .venv).
    static let python: String? = {
        let candidate = repositoryRoot + "/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: candidate) else { return nil }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: candidate)
        check.arguments = ["-c", "import perfetto.protos.perfetto.trace.perfetto_trace_pb2"]
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return nil }
        check.waitUntilExit()
        return check.terminationStatus == 0 ? candidate : nil
    }()

    func testThePerfettoTraceHoldsWhatTheJSONTraceHolds() throws {
        guard let python = Self.python else {
            throw XCTSkip("no .venv with the PyPI perfetto package (scripts/test installs it)")
        }
        let directory = try makeTemporaryDirectory("perfetto")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Queues of 8 blocks: some hand-overs are rejected, so flows also end at rejections.
        let waferFile = directory + "/small-queues.yaml"
        try String(contentsOfFile: repositoryRoot + "/Configs/wafers/small-2x2.yaml", encoding: .utf8)
            .replacingOccurrences(of: "queue_capacity: 64", with: "queue_capacity: 8")
            .write(toFile: waferFile, atomically: true, encoding: .utf8)
        let wafer = ["--wafer", waferFile, "--workload", "Configs/workloads/suite-small.yaml"]
        for (name, extra) in [
            ("json", ["--single-process"]), ("one", ["--single-process", "--trace-format", "perfetto"]),
            ("many", ["--trace-format", "perfetto"]),
        ] {
            let run = try octopus(
                ["run", "--quiet", "--out", directory + "/" + name] + extra + wafer, in: directory, name: name)
            XCTAssertEqual(run.status, 0, run.stderr)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/many/trace.pftrace"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/many/trace.json"))
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: directory + "/one/trace.pftrace")),
            try Data(contentsOf: URL(fileURLWithPath: directory + "/many/trace.pftrace")),
            "the Perfetto trace differs between one process and many")
        let check = try Launched(
            ["scripts/pftrace_check.py", directory + "/many/trace.pftrace", directory + "/json/trace.json"],
            in: directory,
            name: "check", executable: python)
        XCTAssertEqual(check.wait(seconds: 120), 0, check.stderr)
        let report = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any], check.stdout)
        for key in ["slices", "instants", "counters", "flows"] {
            let pair = report[key] as? [Int] ?? []
            XCTAssertEqual(pair.count, 2, key)
            XCTAssertGreaterThan(pair.first ?? 0, 0, "\(key): \(check.stdout)")
            XCTAssertEqual(pair.first, pair.last, "\(key) differ: \(check.stdout)")
        }
        XCTAssertEqual(report["unclosed"] as? Int, 0)
        XCTAssertEqual(report["open_flows"] as? Int, 0, "task flows that never end: \(check.stdout)")
        let events = try XCTUnwrap(try readJSON(directory + "/json/trace.json")["traceEvents"] as? [[String: Any]])
        XCTAssertGreaterThan(
            events.filter { $0["ph"] as? String == "f" && $0["tid"] as? Int == 0 }.count, 0,
            "no flow ends at a rejection: the open-flow check sees only the common case")
        XCTAssertGreaterThan(report["compressed_chunks"] as? Int ?? 0, 0, "packets come in compressed chunks")
        // Sizes are deterministic (same inputs, same bytes), so the ratio is a fact, not a timing.
        let jsonBytes = try FileManager.default.attributesOfItem(atPath: directory + "/json/trace.json")[.size] as! Int
        let protoBytes =
            try FileManager.default.attributesOfItem(atPath: directory + "/many/trace.pftrace")[.size] as! Int
        XCTAssertGreaterThanOrEqual(
            jsonBytes, 5 * protoBytes,
            "the Perfetto trace (\(protoBytes) B) is at least 5× smaller than JSON (\(jsonBytes) B)")
        XCTAssertEqual((report["mismatches"] as? [Any])?.count, 0, check.stdout)
        let bad = try octopus(["run", "--trace-format", "svg"] + wafer, in: directory, name: "bad")
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--trace-format must be json or perfetto"), bad.stderr)
    }
}
