import Foundation
import XCTest

@testable import WaferModel

/// The workflow language: the shipped suite parses, and each kind of mistake is reported at its
/// file, line and field.
final class WorkflowLanguageTests: XCTestCase {
    let topologies = repositoryRoot + "/Configs/topologies"

    func testTheSuiteParses() throws {
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        for name in [
            "video-analytics", "ar-voice", "ar-gaze", "ar-hands", "ar-segmentation", "llm-agent", "recsys",
            "driving-perception",
        ] {
            XCTAssertNotNil(library.index(of: name), name)
        }
        XCTAssertEqual(library[library.index(of: "ar-gaze")!].group, "ar-assistant")
        let video = library[library.index(of: "video-analytics")!]
        XCTAssertEqual(video.phases.names, ["quiet", "crowded"])
        XCTAssertEqual(video.input, TensorSpec([416, 416, 3], dtype: .uint8))
        guard
            case .control(.forEach(let body, let join, let count, let countFrom)) = video.blocks[
                video.index(of: "objects")!
            ].kind
        else {
            return XCTFail("objects is a for-each")
        }
        XCTAssertEqual(video.blocks[body].name, "classifier")
        XCTAssertEqual(video.blocks[join].name, "merge")
        XCTAssertEqual(count[0], .poisson(mean: 1.5, max: 16))
        XCTAssertEqual(count[1], .poisson(mean: 7, max: 16))
        XCTAssertEqual(countFrom, .rowsWhere(column: 4, above: 0.5))
        let llm = library[library.index(of: "llm-agent")!]
        guard
            case .control(.loop(_, _, .continueProbability(let p), .argmaxIn([50256]), 256)) = llm.blocks[
                llm.index(of: "decode")!
            ].kind
        else {
            return XCTFail("decode is a bounded loop until end-of-sequence")
        }
        XCTAssertEqual(p.values, [0.975, 0.99167])
    }

    private func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try WorkflowLoader.parse(yaml, file: "bad.yaml", topologies: topologies)
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    /// One bad file per error kind: (why, file, line, field, part of the message).
    func testEachErrorKindIsLocated() {
        let cases: [(String, String, Int, String, String)] = [
            (
                "unknown block",
                """
                name: w
                blocks:
                  - {name: a, task: [{cycles: 1}], next: nowhere}
                """, 3, "blocks[0].next", "unknown block 'nowhere'"
            ),
            (
                "unknown layer table",
                """
                name: w
                blocks:
                  - name: a
                    task: [{model: no-such-net}]
                """, 4, "blocks[0].task[0].model", "no layer table 'no-such-net'"
            ),
            (
                "unknown table parameter",
                """
                name: w
                blocks:
                  - name: a
                    task: [{model: bert-base, params: {tokens: 3}}]
                """, 4, "blocks[0].task[0].params.tokens", "expected one of: seq"
            ),
            (
                "shape mismatch on a flow",
                """
                name: w
                input: {shape: [8, 8], dtype: int8}
                blocks:
                  - {name: a, task: [{cycles: 1}], output: {shape: [4, 6], dtype: fp32}, next: b}
                  - {name: b, task: [{cycles: 1}], input: {shape: [4, 7], dtype: fp32}}
                """, 5, "blocks[1].input", "'a' produces [4, 6] fp32, 'b' expects [4, 7] fp32"
            ),
            (
                "cycle that is not a declared loop",
                """
                name: w
                blocks:
                  - {name: a, task: [{cycles: 1}], next: b}
                  - {name: b, branch: {probability: 0.5, then: a, else: end}}
                """, 4, "blocks[1]", "a cycle that is not a declared loop"
            ),
            (
                "unreachable block",
                """
                name: w
                blocks:
                  - {name: a, task: [{cycles: 1}]}
                  - {name: lost, task: [{cycles: 1}]}
                """, 4, "blocks[1]", "cannot be reached"
            ),
            (
                "loop without a bound",
                """
                name: w
                blocks:
                  - {name: l, loop: {body: a, continue_probability: 0.5}}
                  - {name: a, task: [{cycles: 1}], next: l}
                """, 3, "blocks[0].loop", "a loop needs a bound"
            ),
            (
                "loop body that does not come back",
                """
                name: w
                blocks:
                  - {name: l, loop: {body: a, trips: 3, max: 5}}
                  - {name: a, branch: {probability: 0.5, then: l, else: end}}
                """, 4, "blocks[1]", "every path of a loop body must come back"
            ),
            (
                "join without a fan-out",
                """
                name: w
                blocks:
                  - {name: a, task: [{cycles: 1}], next: j}
                  - {name: j, join: all}
                """, 4, "blocks[1].join", "not the join of any foreach or parallel"
            ),
            (
                "item that ends before its join",
                """
                name: w
                blocks:
                  - {name: f, foreach: {count: 2, body: a, join: j}}
                  - {name: a, task: [{cycles: 1}], next: end}
                  - {name: j, join: all}
                """, 4, "blocks[1]", "can end the request before join 'j'"
            ),
            (
                "phase missing from a phase-dependent value",
                """
                name: w
                phases: {schedule: [{name: day, duration_cycles: 10}, {name: night}]}
                blocks:
                  - {name: b, branch: {probability: {day: 0.5}, then: end}}
                """, 4, "blocks[0].branch.probability", "misses phase(s) night"
            ),
            (
                "unbounded count distribution",
                """
                name: w
                blocks:
                  - {name: f, foreach: {count: {poisson: 3}, body: a, join: j}}
                  - {name: a, task: [{cycles: 1}], next: j}
                  - {name: j, join: all}
                """, 3, "blocks[0].foreach.count", "poisson needs 'max'"
            ),
        ]
        for (why, yaml, line, field, message) in cases {
            guard let e = error(yaml) else {
                XCTFail("\(why): accepted")
                continue
            }
            XCTAssertEqual(e.file, "bad.yaml", why)
            XCTAssertEqual(e.line, line, "\(why): \(e)")
            XCTAssertEqual(e.field, field, "\(why): \(e)")
            XCTAssertTrue(e.message.contains(message), "\(why): \(e.message)")
        }
    }

    func testAcceptedConstructs() throws {
        // A loop inside a for-each item, an exit that ends an item, a parallel block, named dimensions.
        let graph = try WorkflowLoader.parse(
            """
            name: w
            input: {shape: [4, 3], dtype: fp32}
            blocks:
              - {name: f, foreach: {count: {uniform: [0, 4]}, count_from: rows, body: a, join: j}}
              - {name: a, task: [{cycles: 10}], input: {shape: [3], dtype: fp32}, output: {shape: [2], dtype: fp32}, next: l}
              - {name: l, loop: {body: b, trips: {choice: [1, 2]}, max: 2}, next: x}
              - {name: b, task: [{cycles: 5}], next: l}
              - {name: x, exit: {probability: 0.25}, next: j}
              - {name: j, join: any, next: p}
              - {name: p, parallel: {branches: [c, d], join: k}}
              - {name: c, task: [{cycles: 1}], input: {shape: [n, 2], dtype: fp32}, next: k}
              - {name: d, task: [{cycles: 1}], next: k}
              - {name: k, join: all}
            """, file: "ok.yaml")
        let analysis = WorkflowAnalysis(graph)
        let v = analysis.visits[0]
        // 2 items on average; each runs a once, the loop 1.5 times on average (loop block 2.5 runs).
        XCTAssertEqual(v[graph.index(of: "a")!], 2, accuracy: 1e-12)
        XCTAssertEqual(v[graph.index(of: "b")!], 3, accuracy: 1e-12)
        XCTAssertEqual(v[graph.index(of: "l")!], 5, accuracy: 1e-12)
        // Every item reaches the join, through the exit or past it.
        XCTAssertEqual(v[graph.index(of: "j")!], 2, accuracy: 1e-12)
        // The parallel block runs once per request: when there were items the join fired, and
        // an empty for-each (probability 1/5) goes straight past it.
        XCTAssertEqual(v[graph.index(of: "p")!], 1, accuracy: 1e-12)
        XCTAssertEqual(v[graph.index(of: "k")!], 2, accuracy: 1e-12)
        let dot = WorkflowDOT.render(graph)
        XCTAssertTrue(dot.hasPrefix("digraph \"w\" {"))
        XCTAssertTrue(dot.contains("b3 -> b2 [style=dashed]"), "the loop's back edge is dashed:\n\(dot)")
        XCTAssertTrue(dot.contains("b4 -> b5 [label=\"exit item\", style=dashed]"), dot)
    }

    func testDistributions() {
        for d in [
            ParameterDistribution.poisson(mean: 3, max: 8), .geometric(mean: 2, max: 10), .uniform(low: 2, high: 5),
            .choice([1, 1, 4]),
        ] {
            XCTAssertEqual(d.probabilities.reduce(0) { $0 + $1.probability }, 1, accuracy: 1e-12, "\(d)")
            var rng = SplitMix64(seed: 9)
            let draws = (0..<40_000).map { _ in d.sample(&rng) }
            XCTAssertTrue(draws.allSatisfy { $0 >= d.minimum && $0 <= d.maximum }, "\(d)")
            let mean = Double(draws.reduce(0, +)) / Double(draws.count)
            // σ of the sample mean is below 0.02 for all of these (variances ≤ 6 over 40,000 draws).
            XCTAssertEqual(mean, d.mean, accuracy: 0.08, "\(d)")
        }
        XCTAssertEqual(ParameterDistribution.uniform(low: 2, high: 5).mean, 3.5, accuracy: 1e-12)
        XCTAssertEqual(ParameterDistribution.choice([1, 1, 4]).mean, 2, accuracy: 1e-12)
    }

    func testPhaseSchedule() {
        let repeating = PhaseSchedule(
            phases: [.init(name: "a", durationCycles: 10), .init(name: "b", durationCycles: 5)], repeats: true)
        XCTAssertEqual([0, 9, 10, 14, 15, 29, 30].map(repeating.index(at:)), [0, 0, 1, 1, 0, 1, 0])
        let once = PhaseSchedule(
            phases: [.init(name: "a", durationCycles: 10), .init(name: "b", durationCycles: nil)], repeats: false)
        XCTAssertEqual([0, 10, 1_000_000].map(once.index(at:)), [0, 1, 1])
    }

    func testBurstyAndReplayedArrivals() throws {
        var rng = SplitMix64(seed: 3)
        let onOff = try ArrivalProcess.onOff(meanInterval: 50, on: 1000, off: 4000).arrivals(
            count: 2000, start: 100, rng: &rng)
        // Nothing arrives in an off period: offsets modulo the 5,000-cycle cycle fall in the first 1,000.
        XCTAssertTrue(onOff.allSatisfy { ($0 - 100) % 5000 < 1000 })
        let markov = ArrivalProcess.markov([
            .init(meanInterval: 10, meanDwell: 10_000), .init(meanInterval: 100, meanDwell: 10_000),
        ])
        let times = try markov.arrivals(count: 50_000, start: 0, rng: &rng)
        let rate = Double(times.count) / Double(times.last!)
        XCTAssertEqual(
            rate, markov.meanRate!, accuracy: markov.meanRate! * 0.1, "about 90 state changes: the rate is within 10%")
        XCTAssertEqual(times, times.sorted())

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-replay-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "# recorded\nclient,arrival\na,300\nb,100\nc,200\n".write(
            toFile: directory + "/t.csv", atomically: true, encoding: .utf8)
        let injections = try WorkloadLoader.parse(
            """
            injections:
              - {workflow: w, arrival: {process: replay, file: t.csv, column: arrival}}
              - {workflow: w, count: 2, start_cycle: 1000, arrival: {process: replay, times_cycles: [5, 1]}}
            """, file: directory + "/wl.yaml", known: ["w"], directory: directory)
        XCTAssertEqual(injections[0].count, 3, "a replay without count replays every arrival")
        XCTAssertEqual(try injections[0].arrival.arrivals(count: 3, start: 10, rng: &rng), [110, 210, 310])
        XCTAssertEqual(try injections[1].arrival.arrivals(count: 2, start: 1000, rng: &rng), [1001, 1005])

        try "arrival\n100\nsoon\n".write(toFile: directory + "/bad.csv", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(
            try WorkloadLoader.parse(
                "injections:\n  - {workflow: w, arrival: {process: replay, file: bad.csv}}",
                file: "wl.yaml", known: ["w"], directory: directory)
        ) { error in
            let e = error as! ConfigError
            XCTAssertEqual(e.line, 3)
            XCTAssertTrue(e.file.hasSuffix("bad.csv"))
            XCTAssertTrue(e.message.contains("column 1 is not an arrival time"), e.message)
            XCTAssertFalse(e.message.contains("soon"), "errors never quote the file's contents: \(e.message)")
        }
        // Beyond the recording, the replay repeats it shifted by its span (last arrival + mean gap).
        let repeated = try WorkloadLoader.parse(
            "injections:\n  - {workflow: w, count: 7, arrival: {process: replay, times_cycles: [0, 30, 60]}}",
            file: "wl.yaml", known: ["w"])
        XCTAssertEqual(try repeated[0].arrival.arrivals(count: 7, start: 0, rng: &rng), [0, 30, 60, 80, 110, 140, 160])
        XCTAssertThrowsError(
            try WorkloadLoader.parse(
                "injections:\n  - {workflow: w, count: 9, arrival: {process: onoff, mean_interval_cycles: 5, period_cycles: 3}}",
                file: "wl.yaml", known: ["w"])
        ) { error in
            XCTAssertEqual((error as! ConfigError).field, "injections[0].arrival.period_cycles")
        }
    }

    /// Scaling an injection multiplies its rate and its requests and keeps its span.
    func testScaledInjectionsKeepTheirSpan() throws {
        var rng = SplitMix64(seed: 3)
        let periodic = Injection(workflow: "w", count: 100, arrival: .periodic(period: 1000, jitter: 100))
        let quadruple = periodic.scaled(by: 4)
        XCTAssertEqual(quadruple.count, 400)
        XCTAssertEqual(quadruple.arrival, .periodic(period: 250, jitter: 25))
        XCTAssertEqual(periodic.scaled(by: 0.25).count, 25)
        XCTAssertEqual(periodic.scaled(by: 0.001).count, 1, "at least one request")
        let markov = ArrivalProcess.markov([
            .init(meanInterval: 100, meanDwell: 5000), .init(meanInterval: 1000, meanDwell: 5000),
        ])
        XCTAssertEqual(markov.scaled(rate: 2).meanRate!, 2 * markov.meanRate!, accuracy: 1e-12)
        XCTAssertEqual(
            ArrivalProcess.onOff(meanInterval: 10, on: 100, off: 100).scaled(rate: 2).meanRate!, 0.1, accuracy: 1e-12)
        let replay = Injection(workflow: "w", count: 3, arrival: .replay([0, 400, 800])).scaled(by: 2)
        XCTAssertEqual(replay.count, 6)
        let times = try replay.arrival.arrivals(count: replay.count, start: 0, rng: &rng)
        XCTAssertEqual(times, [0, 200, 400, 533, 733, 933])
    }
}
