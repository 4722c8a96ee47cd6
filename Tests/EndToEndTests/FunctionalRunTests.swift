import Emulation
import Foundation
import Functional
import WaferModel
import XCTest

/// Functional mode across real cluster processes: tensors travel over ZeroMQ and the for-each runs
/// the classifier once per object the detector really found.
final class FunctionalRunTests: XCTestCase {
    func testVideoAnalyticsRunsOnRealDataAcrossProcesses() throws {
        let directory = try makeTemporaryDirectory("functional")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = [
            "run", "--functional", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload",
            "Configs/workloads/video-small.yaml", "--quiet",
        ]
        var summaries: [String: RunSummary] = [:]
        var traces: [String: Data] = [:]
        for (name, extra) in [("ipc", []), ("ipc-again", []), ("oracle", ["--single-process"])] {
            let out = directory + "/" + name
            let result = try octopus(arguments + ["--out", out] + extra, in: directory, name: name)
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            summaries[name] = try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            traces[name] = try Data(contentsOf: URL(fileURLWithPath: out + "/trace.json"))
        }
        let results = try XCTUnwrap(summaries["ipc"]).results
        XCTAssertEqual(results.mode, "functional")
        XCTAssertEqual(results.overall.completed, 24)
        XCTAssertEqual(summaries["ipc-again"]?.results, results, "functional runs are deterministic")
        XCTAssertEqual(traces["ipc-again"], traces["ipc"])
        XCTAssertEqual(summaries["oracle"]?.results, results, "the multi-process run equals the single-process oracle")
        XCTAssertEqual(traces["oracle"], traces["ipc"])

        // Recompute in this process what the detector's outputs demand, from each request's own input.
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let graph = library[library.index(of: "video-analytics")!]
        func block(_ name: String) -> TaskBlock {
            guard case .task(let task) = graph.blocks[graph.index(of: name)!].kind else {
                fatalError("\(name) is a task block")
            }
            return task
        }
        guard case .control(.forEach(_, _, _, let countFrom?)) = graph.blocks[graph.index(of: "objects")!].kind,
            case .control(.branch(let isPerson, _, _)) = graph.blocks[graph.index(of: "is-person")!].kind
        else {
            return XCTFail("video-analytics has a data-dependent for-each and person branch")
        }
        let trace = try JSONSerialization.jsonObject(with: traces["ipc"]!) as! [String: Any]
        let injections = (trace["traceEvents"] as! [[String: Any]]).filter { $0["cat"] as? String == "inject" }
        XCTAssertEqual(injections.count, 24)
        let executor = try BLASExecutor()
        var classifiers = 0
        var poses = 0
        for event in injections {
            let args = event["args"] as! [String: Any]
            let input = executor.input(
                of: graph, request: UInt64(args["request"] as! Int), injected: UInt64(args["cycle"] as! Int),
                seed: config.seed)
            var data = executor.run(block("preprocess"), of: graph, input: input, seed: config.seed)
            data = executor.run(block("detector"), of: graph, input: data, seed: config.seed)
            data = executor.run(block("nms"), of: graph, input: data, seed: config.seed)
            for row in countFrom.items(of: data) {
                classifiers += 1
                let logits = executor.run(block("classifier"), of: graph, input: data.item(row), seed: config.seed)
                if isPerson.predicate!.holds(for: logits) { poses += 1 }
            }
        }
        let runs = try XCTUnwrap(results.workflows["video-analytics"]?.blockRuns)
        XCTAssertGreaterThan(classifiers, 24, "the scenes hold objects")
        XCTAssertEqual(runs["classifier"], UInt64(classifiers), "one classifier run per object the detector found")
        XCTAssertEqual(runs["pose"], UInt64(poses), "one pose run per object classified as a person")
        XCTAssertEqual(runs["merge"], UInt64(classifiers), "every item reached the join")
        XCTAssertEqual(runs["tracker"], 24)
    }
}
