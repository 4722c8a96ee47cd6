import Emulation
import Foundation
import WaferModel
import XCTest

/// Structured fuzzing of the shipped wafer, workflow and workload files: each mutant — a value
/// replaced by an extreme one (huge, negative, fractional, wrong type, alias), a line deleted,
/// duplicated or cut short — must either be refused with a located ``ConfigError`` or be accepted
/// and then run without trapping or spinning. Deterministic: the seed and the number of mutants per
/// file come from `OCTOPUS_FUZZ_SEED` (default 1) and `OCTOPUS_FUZZ_MUTANTS` (default 24);
/// `scripts/fuzz --minutes N` runs it with fresh seeds for longer.
final class ConfigFuzzTests: XCTestCase {
    static let seed = UInt64(ProcessInfo.processInfo.environment["OCTOPUS_FUZZ_SEED"] ?? "") ?? 1
    static let mutants = Int(ProcessInfo.processInfo.environment["OCTOPUS_FUZZ_MUTANTS"] ?? "") ?? 24

    /// Values a hostile or careless file might hold.
    static let extremes = [
        "0", "-1", "1", "1e400", "-1e400", "1e-300", "1e30", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "18446744073709551615", "281474976710656", "281474976710657", "1000000001",
        "72057594037927937", "4294967296", ".nan", ".inf", "-.inf", "[]", "{}", "''", "\"x\"", "~", "true", "0x10",
        "1_000", "[1, 2, 3]", "{a: 1}", "*nowhere", "&anchor 5", "é", "\"\\u0000\"", String(repeating: "9", count: 400),
    ]

    /// One mutant of `text`.
    static func mutate(_ text: String, rng: inout SplitMix64) -> String {
        var lines = text.components(separatedBy: "\n")
        guard !lines.isEmpty else { return text }
        let pick = Int(rng.next() % UInt64(lines.count))
        switch rng.next() % 8 {
        case 0: lines.remove(at: pick)
        case 1: lines.insert(lines[pick], at: pick)
        case 2: lines[pick] = String(lines[pick].prefix(Int(rng.next() % UInt64(lines[pick].count + 1))))
        default:
            // Replace one value: after a `key:` or one element of a flow list.
            let line = lines[pick]
            let extreme = extremes[Int(rng.next() % UInt64(extremes.count))]
            var candidates: [Range<String.Index>] = []
            var searchStart = line.startIndex
            while let colon = line.range(of: ": ", range: searchStart..<line.endIndex) {
                let valueStart = colon.upperBound
                let valueEnd = line[valueStart...].firstIndex(where: { ",}]#".contains($0) }) ?? line.endIndex
                if valueStart < valueEnd { candidates.append(valueStart..<valueEnd) }
                searchStart = colon.upperBound
            }
            if let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]") {
                var start = line.index(after: open)
                while start < close {
                    let end = line[start..<close].firstIndex(of: ",") ?? close
                    if start < end { candidates.append(start..<end) }
                    start = end < close ? line.index(after: end) : close
                }
            }
            guard !candidates.isEmpty else { return lines.joined(separator: "\n") }
            let range = candidates[Int(rng.next() % UInt64(candidates.count))]
            lines[pick] = line.replacingCharacters(in: range, with: extreme)
        }
        return lines.joined(separator: "\n")
    }

    func files(_ folder: String) throws -> [String] {
        let directory = repositoryRoot + "/Configs/" + folder
        return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
            .map { directory + "/" + $0 }
    }

    /// An error from parsing a mutant must be a located ``ConfigError`` naming the file.
    func checkRefusal(_ error: Error, file: String, mutant: String) {
        guard let config = error as? ConfigError else {
            return XCTFail(
                "\(file): a mutant was refused with \(type(of: error)), not a located error: \(error)\n\(mutant)")
        }
        // A file the mutant names (a replayed trace) may hold the located problem too.
        if config.file != file, mutant.contains(config.file), config.file.hasSuffix(".csv") { return }
        XCTAssertEqual(config.file, file, "\(config)")
        XCTAssertFalse(config.message.isEmpty)
    }

    /// Runs `injections` (at most 20 requests each) on `config` in one process, failing if it traps
    /// (the test process dies) or is still running after two minutes of wall time (a hang: the
    /// bound is far above any legitimate mutant's cost and no measure of speed).
    func runBriefly(_ config: WaferConfig, _ library: WorkflowLibrary, _ injections: [Injection], label: String) {
        let session = WaferSession.inProcess(config: config, library: library)
        for var injection in injections {
            injection.count = min(injection.count, 20)
            do { try session.inject(injection) } catch {
                XCTAssertFalse("\(error)".isEmpty)
                continue
            }
        }
        let deadline = Date().addingTimeInterval(120)
        var hung = false
        do {
            try session.runUntilIdle(shouldStop: {
                hung = Date() > deadline
                return hung
            })
        } catch let error as WaferSession.HorizonPassed {
            XCTAssertGreaterThanOrEqual(error.time, Limits.horizon)
        } catch {
            XCTFail("\(label): the run failed: \(error)")
        }
        XCTAssertFalse(hung, "\(label): still running after two minutes")
    }

    func testMutatedWaferFilesAreRefusedWithALocatedErrorOrRun() throws {
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let workload = try WorkloadLoader.load(
            path: repositoryRoot + "/Configs/workloads/small.yaml", known: Set(library.names))
        var rng = SplitMix64(keys: Self.seed, 1)
        var accepted = 0
        for file in try files("wafers") {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for _ in 0..<Self.mutants {
                let mutant = Self.mutate(text, rng: &rng)
                do {
                    let config = try WaferConfigLoader.parse(mutant, file: file)
                    accepted += 1
                    XCTAssertGreaterThanOrEqual(config.lookahead, 1)
                    // Large wafers are accepted by design; run the small ones.
                    if config.clusterCount <= 16 { runBriefly(config, library, workload, label: "\(file) mutant") }
                } catch {
                    checkRefusal(error, file: file, mutant: mutant)
                }
            }
        }
        XCTAssertGreaterThan(accepted, 0, "no mutant was accepted: the mutations only test the parser's refusals")
    }

    func testMutatedWorkflowFilesAreRefusedWithALocatedErrorOrRun() throws {
        let topologies = repositoryRoot + "/Configs/topologies"
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        let shipped = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        var rng = SplitMix64(keys: Self.seed, 2)
        for file in try files("workflows") {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for _ in 0..<max(1, Self.mutants / 4) {
                let mutant = Self.mutate(text, rng: &rng)
                do {
                    let graph = try WorkflowLoader.parse(mutant, file: file, topologies: topologies)
                    let library = WorkflowLibrary(shipped.workflows.filter { $0.name != graph.name } + [graph])
                    runBriefly(
                        config, library,
                        [Injection(workflow: graph.name, count: 5, arrival: .poisson(meanInterval: 20_000))],
                        label: "\(file) mutant")
                } catch {
                    checkRefusal(error, file: file, mutant: mutant)
                }
            }
        }
    }

    func testMutatedWorkloadFilesAreRefusedWithALocatedErrorOrRun() throws {
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        var rng = SplitMix64(keys: Self.seed, 3)
        for file in try files("workloads") {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for _ in 0..<max(1, Self.mutants / 3) {
                let mutant = Self.mutate(text, rng: &rng)
                do {
                    let injections = try WorkloadLoader.parse(
                        mutant, file: file, known: Set(library.names),
                        directory: (file as NSString).deletingLastPathComponent)
                    runBriefly(config, library, injections, label: "\(file) mutant")
                } catch {
                    checkRefusal(error, file: file, mutant: mutant)
                }
            }
        }
    }

    /// The limits are enforced where values are parsed, with the field named.
    func testValuesBeyondTheLimitsAreRefusedWhereTheyAreParsed() throws {
        let cases: [(String, String)] = [
            ("cluster: {reconfiguration_cycles: 1000000001}", "cluster.reconfiguration_cycles"),
            ("links: {control_latency_cycles: 99999999999}", "links.control_latency_cycles"),
            ("sync: {mode: quantum, window_cycles: 9223372036854775807}", "sync.window_cycles"),
        ]
        for (extra, field) in cases {
            XCTAssertThrowsError(
                try WaferConfigLoader.parse("mesh: {rows: 2, columns: 2}\n\(extra)\n", file: "w.yaml")
            ) { error in
                XCTAssertEqual((error as? ConfigError)?.field, field, "\(error)")
            }
        }
        let workloads: [(String, String)] = [
            ("{process: poisson, mean_interval_cycles: 1e30}", "must be at most"),
            ("{process: periodic, period_cycles: 281474976710656}", "would arrive after cycle"),
            (
                "{process: markov, states: [{mean_interval_cycles: 1000, mean_dwell_cycles: 1e-300}, {mean_interval_cycles: 1000, mean_dwell_cycles: 1e-300}]}",
                "changed state"
            ),
            (
                "{process: onoff, mean_interval_cycles: 10, on_cycles: 1, off_cycles: 281474976710656}",
                "would arrive after"
            ),
        ]
        for (arrival, message) in workloads {
            XCTAssertThrowsError(
                try WorkloadLoader.parse(
                    "injections:\n  - {workflow: w, count: 1000, arrival: \(arrival)}", file: "l.yaml", known: ["w"])
            ) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
                XCTAssertTrue("\(error)".hasPrefix("l.yaml:2: injections[0].arrival"), "\(error)")
            }
        }
        // Layers too large to time (found by this fuzzing: the timing model trapped on them).
        for task in [
            "{gemm: [2147483647, 2147483647, 2147483647]}", "{gemm: [1, 2147483647, 2147483647]}", "{nms: 2147483647}",
        ] {
            XCTAssertThrowsError(
                try WorkflowLoader.parse(
                    "name: big\nblocks:\n  - {name: a, task: [\(task)]}\n", file: "big.yaml",
                    topologies: repositoryRoot + "/Configs/topologies")
            ) { error in
                XCTAssertTrue("\(error)".contains("more than 1099511627776"), "\(error)")
            }
        }
        // A billion-laughs document is refused before anything walks it.
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for level in 1..<12 {
            bomb +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        XCTAssertThrowsError(try ConfigNode.parse(bomb, file: "bomb.yaml")) { error in
            XCTAssertTrue("\(error)".contains("expands to more than"), "\(error)")
        }
    }
}
