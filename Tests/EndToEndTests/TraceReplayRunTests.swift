import Emulation
import Foundation
import XCTest

/// A production-style trace replayed through `octopus run`: arrivals from its timestamps, each
/// request's prompt and output length from its columns (an llm-serving workflow), the same
/// results and trace in one process and across processes; a bad row stops the run with its line.
final class TraceReplayRunTests: XCTestCase {
    /// A trace "of another service": the Azure columns in another order, an extra column, a
    /// different file — no code knows its name.
    static let trace = """
        Region,GeneratedTokens,TIMESTAMP,ContextTokens
        eu,20,2023-11-16 18:00:00.0000000,50
        us,3,2023-11-16 18:00:00.0020000,300
        eu,7,2023-11-16 18:00:00.0010000,120
        us,12,2023-11-16 18:00:00.0050000,64
        eu,2000,2023-11-16 18:00:00.0030000,9
        us,1,2023-11-16 18:00:00.0040000,200

        """

    /// llm-serving's shape with GPT-2 small (Configs/serving/workflows/llm-serving.yaml uses a 7B
    /// model, whose virtual seconds per request make a slow test).
    static let workflow = """
        name: llm-serving
        request_params:
          prompt: {uniform: [1, 1024]}
          generated: {uniform: [1, 1024]}
        blocks:
          - name: prefill
            task:
              - {model: gpt2-small-prefill, params: {seq: {request: prompt}}}
            output_bytes: 1536
            next: decode
          - name: decode
            loop: {body: decode-step, trips: {request: generated}, max: 1024}
          - name: decode-step
            task:
              - {model: gpt2-small-decode, params: {ctx: {request: prompt, plus_iteration_of: decode}}}
            output_bytes: 1536
            next: decode

        """

    func workload(_ file: String) -> String {
        """
        workflows: workflows
        injections:
          - workflow: llm-serving
            arrival:
              process: replay
              file: \(file)
              column: TIMESTAMP
              time_format: datetime
              cycles_per_second: 1.0e9
              params: {prompt: ContextTokens, generated: GeneratedTokens}
            seed: 5

        """
    }

    func testATraceWithPerRequestParametersRunsTheSameInOneProcessAndAcrossProcesses() throws {
        let directory = try makeTemporaryDirectory("trace-replay")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.trace.write(toFile: directory + "/other-service.csv", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory + "/workflows", withIntermediateDirectories: true)
        try Self.workflow.write(toFile: directory + "/workflows/serve.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/topologies", withDestinationPath: repositoryRoot + "/Configs/topologies")
        try workload("other-service.csv").write(toFile: directory + "/replay.yaml", atomically: true, encoding: .utf8)
        var summaries: [String: RunSummary] = [:]
        var traces: [String: Data] = [:]
        for (name, extra) in [("one", ["--single-process"]), ("many", [])] {
            let out = directory + "/" + name
            let run = try octopus(
                [
                    "run", "--quiet", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload",
                    directory + "/replay.yaml", "--out", out,
                ] + extra, in: directory, name: name, seconds: 300)
            XCTAssertEqual(run.status, 0, run.stderr)
            summaries[name] = try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            traces[name] = try Data(contentsOf: URL(fileURLWithPath: out + "/trace.json"))
        }
        // Both summaries name the build and every file read, with the digests sha256sum prints
        // (paths as the run read them: the replay's relative to the workload, the tables through
        // the link).
        let build = try buildID(of: octopusBinary)
        var expected = [
            "Configs/wafers/small-2x2.yaml", directory + "/replay.yaml", directory + "/workflows/serve.yaml",
            directory + "/other-service.csv",
        ]
        expected += ["gpt2-small-prefill.csv", "gpt2-small-decode.csv"].map { directory + "/topologies/" + $0 }
        for name in ["one", "many"] {
            let host = try XCTUnwrap(summaries[name]?.host)
            XCTAssertEqual(host.build?.id, build, name)
            XCTAssertNil(host.clusterBuilds, name)
            let inputs = try XCTUnwrap(host.inputs, name)
            XCTAssertEqual(Set(inputs.map(\.path)), Set(expected), name)
            for input in inputs {
                let onDisk = input.path.hasPrefix("/") ? input.path : repositoryRoot + "/" + input.path
                XCTAssertEqual(input.sha256, try sha256sum(onDisk), input.path)
                XCTAssertEqual(input.bytes, try FileManager.default.attributesOfItem(atPath: onDisk)[.size] as? Int)
            }
        }
        let results = try XCTUnwrap(summaries["one"]?.results)
        XCTAssertEqual(summaries["many"]?.results, results, "results across processes differ from one process")
        XCTAssertEqual(traces["many"], traces["one"], "traces across processes differ from one process")
        let serving = try XCTUnwrap(results.workflows["llm-serving"])
        XCTAssertEqual(serving.completed, 6)
        // One decode step per generated token; 2,000 is clamped to the parameter's range [1, 1024].
        XCTAssertEqual(serving.blockRuns?["decode-step"], 20 + 3 + 7 + 12 + 1024 + 1)
        XCTAssertEqual(serving.blockRuns?["prefill"], 6)

        // Arrivals at the recorded times (1 ms apart at 1 GHz, in time order, not file order), and a
        // decode step's work grows with its context: request 0 (prompt 50, 20 tokens) attends to
        // 50…69 cached tokens, crossing a 64-token boundary of the 32-wide arrays' folds.
        let events = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: traces["one"]!) as? [String: Any])?["traceEvents"]
                as? [[String: Any]])
        let injected = events.filter { $0["ph"] as? String == "i" && $0["cat"] as? String == "inject" }
            .compactMap { $0["ts"] as? Double }
        XCTAssertEqual(injected, [0, 1000, 2000, 3000, 4000, 5000])
        let steps = events.filter {
            $0["ph"] as? String == "X" && $0["name"] as? String == "llm-serving/decode-step"
                && ($0["args"] as? [String: Any])?["request"] as? Int == 0
        }.compactMap { $0["dur"] as? Double }
        XCTAssertEqual(steps.count, 20)
        XCTAssertEqual(steps, steps.sorted(), "each step attends to one more token")
        XCTAssertLessThan(steps.first!, steps.last!)

        // A bad row stops the run before it starts, naming the file and line.
        try (Self.trace + "eu,4,not a time,10\n").write(
            toFile: directory + "/bad.csv", atomically: true, encoding: .utf8)
        try workload("bad.csv").write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try octopus(
            ["run", "--quiet", "--single-process", "--workload", directory + "/bad.yaml", "--out", directory + "/bad"],
            in: directory, name: "bad")
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("bad.csv:8") && bad.stderr.contains("column 'TIMESTAMP'"), bad.stderr)
    }
}
