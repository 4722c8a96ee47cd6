import Foundation
import XCTest

@testable import WaferModel

/// Replaying a production trace: arrival times from a timestamp or seconds column, per-request
/// workflow parameters from other columns, a row range, located errors for bad rows.
final class TraceReplayTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-trace-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }

    func workload(_ arrival: String, known: [String: [String]] = ["serve": ["prompt", "generated"]]) throws
        -> [Injection]
    {
        try WorkloadLoader.parse(
            "injections:\n  - {workflow: serve, arrival: \(arrival)}\n", file: directory + "/w.yaml",
            known: Set(known.keys), directory: directory)
    }

    func testTimestampsFromTheAzureTraceFormat() {
        // Checked against Python's datetime (UTC): 2023-11-16 18:15:46.680590 → 1700158546680590000 ns.
        XCTAssertEqual(ArrivalTrace.nanoseconds(ofTimestamp: "2023-11-16 18:15:46.6805900"), 1_700_158_546_680_590_000)
        XCTAssertEqual(ArrivalTrace.nanoseconds(ofTimestamp: "1970-01-01 00:00:01.5"), 1_500_000_000)
        XCTAssertEqual(ArrivalTrace.nanoseconds(ofTimestamp: "2024-02-29 00:00:00"), 1_709_164_800_000_000_000)
        // The extremes of the years whose nanoseconds fit in 64 bits (Python: 2261-12-31 23:59:59.999999999
        // → 9214646399999999999; 1678-01-01 → -9214560000000000000).
        XCTAssertEqual(
            ArrivalTrace.nanoseconds(ofTimestamp: "2261-12-31 23:59:59.999999999"), 9_214_646_399_999_999_999)
        XCTAssertEqual(ArrivalTrace.nanoseconds(ofTimestamp: "1678-01-01 00:00:00"), -9_214_560_000_000_000_000)
        for bad in [
            "2023-11-16", "2023-13-01 00:00:00", "2023-11-16 25:00:00", "2023-11-16 18:15:46.", "yesterday",
            "9999-12-31 23:59:59.9999999", "2262-01-01 00:00:00", "1677-12-31 23:59:59", "0001-01-01 00:00:00",
        ] {
            XCTAssertNil(ArrivalTrace.nanoseconds(ofTimestamp: bad), bad)
        }
    }

    /// Rows out of time order are sorted with their values; CRLF line ends and extra columns are
    /// fine; times become cycles after the first row's at `cycles_per_second`.
    func testArrivalsAndParametersComeFromTheColumns() throws {
        try write(
            "t.csv",
            "TIMESTAMP,ContextTokens,GeneratedTokens,Region\r\n2023-11-16 18:15:46.5,374,44,eu\r\n"
                + "2023-11-16 18:15:46.0,100,10,us\r\n2023-11-16 18:15:47.25,879,55,eu\r\n")
        let injections = try workload(
            "{process: replay, file: t.csv, column: TIMESTAMP, time_format: datetime, cycles_per_second: 1.0e9, params: {prompt: ContextTokens, generated: GeneratedTokens}}"
        )
        let injection = try XCTUnwrap(injections.first)
        XCTAssertEqual(injection.count, 3)
        guard case .replay(let offsets) = injection.arrival else { return XCTFail("not a replay") }
        XCTAssertEqual(offsets, [0, 500_000_000, 1_250_000_000])
        XCTAssertEqual(
            injection.parameters,
            RequestValues(names: ["prompt", "generated"], rows: [[100, 10], [374, 44], [879, 55]]))

        // Seconds, a row range (data rows 2–3 of the file), time compressed 10×.
        try write("s.csv", "# another service\nt,prompt_len,out_len\n0.0,5,1\n2.0,6,2\n3.5,7,3\n9.0,8,4\n")
        let slice = try XCTUnwrap(
            try workload(
                "{process: replay, file: s.csv, column: t, time_format: seconds, cycles_per_second: 1.0e8, rows: [2, 3], params: {generated: out_len}}"
            ).first)
        guard case .replay(let sliceOffsets) = slice.arrival else { return XCTFail("not a replay") }
        XCTAssertEqual(sliceOffsets, [0, 150_000_000])
        XCTAssertEqual(slice.parameters?.rows, [[2], [3]])
    }

    /// Bad input is refused with the file, line and column, never the cell's contents.
    func testBadRowsAndSettingsAreLocated() throws {
        try write("t.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.5,374,44\nsecret-value,1,2\n")
        let datetime =
            "process: replay, file: t.csv, column: TIMESTAMP, time_format: datetime, cycles_per_second: 1.0e9"
        func message(_ arrival: String) -> String {
            do {
                _ = try workload(arrival)
                return "accepted"
            } catch { return "\(error)" }
        }
        let badTime = message("{\(datetime)}")
        XCTAssertTrue(badTime.contains("t.csv:3"), badTime)
        XCTAssertTrue(badTime.contains("column 'TIMESTAMP' is not a timestamp"), badTime)
        XCTAssertFalse(badTime.contains("secret-value"), "errors never quote the file")

        try write("p.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.5,-3,44\n")
        let badValue = message(
            "{\(datetime.replacingOccurrences(of: "t.csv", with: "p.csv")), params: {prompt: ContextTokens}}")
        XCTAssertTrue(badValue.contains("p.csv:2") && badValue.contains("column 'ContextTokens'"), badValue)

        let missing = message("{\(datetime), params: {prompt: Prompt}}")
        XCTAssertTrue(
            missing.contains("w.yaml") && missing.contains("arrival.params.prompt")
                && missing.contains("'t.csv' has no column 'Prompt'"), missing)
        let noScale = message("{process: replay, file: t.csv, column: TIMESTAMP, time_format: datetime}")
        XCTAssertTrue(noScale.contains("needs 'cycles_per_second'"), noScale)
        let badRows = message("{\(datetime), rows: [5, 2]}")
        XCTAssertTrue(badRows.contains("arrival.rows") && badRows.contains("first ≤ last"), badRows)
        let noRows = message("{\(datetime), rows: [10, 20]}")
        XCTAssertTrue(noRows.contains("has no rows in 'rows'"), noRows)
        // Timestamps at the two ends of the years allowed lie 584 years apart: more nanoseconds
        // than 64 bits hold (the subtraction crashed), and far past the cycle limit.
        try write("far.csv", "TIMESTAMP\n1678-01-01 00:00:00\n2261-12-31 23:59:59\n")
        let far = message("{\(datetime.replacingOccurrences(of: "t.csv", with: "far.csv"))}")
        XCTAssertTrue(far.contains("an arrival lies more than 281474976710656 cycles after the first"), far)
        try write("y.csv", "TIMESTAMP\n9999-12-31 23:59:59.9999999\n")
        let year = message("{\(datetime.replacingOccurrences(of: "t.csv", with: "y.csv"))}")
        XCTAssertTrue(year.contains("y.csv:2") && year.contains("from year 1678 to 2261"), year)
        let notReplay = message("{process: poisson, mean_interval_cycles: 100, rows: [1, 2]}")
        XCTAssertTrue(notReplay.contains("'rows' is for a replay from a 'file'"), notReplay)
    }

    /// A trace file that cannot be read is named with what is wrong with it, at the workload's
    /// line, for both readers (a plain column of cycles, and a table with settings).
    func testAnUnreadableTraceSaysWhy() throws {
        try FileManager.default.createDirectory(atPath: directory + "/d.csv", withIntermediateDirectories: true)
        try write("empty.csv", "")
        try Data([0x74, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: directory + "/bin.csv"))
        for (file, why) in [
            ("none.csv", "no such file"), ("d.csv", "is a directory, not a file"), ("empty.csv", "empty file"),
            ("bin.csv", "not UTF-8 text"),
        ] {
            for arrival in [
                "{process: replay, file: \(file)}",
                "{process: replay, file: \(file), column: t, time_format: seconds, cycles_per_second: 1.0e9}",
            ] {
                XCTAssertThrowsError(try workload(arrival)) { error in
                    let message = "\(error)"
                    XCTAssertTrue(message.contains("w.yaml:2"), message)
                    XCTAssertTrue(message.contains("cannot read arrival trace '\(file)': \(why)"), message)
                }
            }
        }
    }

    /// The workflow names which request parameters it takes; a trace column for another one is
    /// refused where the workload names it.
    func testParametersTheWorkflowDoesNotDeclareAreRefused() throws {
        try write("t.csv", "t,a\n0,1\n")
        let graph = try WorkflowLoader.parse(
            """
            name: serve
            request_params: {prompt: {uniform: [1, 100]}}
            blocks:
              - {name: work, task: [{cycles: 10}]}
            """, file: "serve.yaml")
        let library = WorkflowLibrary([graph])
        XCTAssertThrowsError(
            try WorkloadLoader.parse(
                ConfigNode.parse(
                    "injections:\n  - {workflow: serve, arrival: {process: replay, file: t.csv, column: t, params: {tokens: a}}}\n",
                    file: directory + "/w.yaml"), known: ["serve"], directory: directory, library: library)
        ) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("arrival.params") && text.contains("no request parameter 'tokens'"), text)
        }
    }
}
