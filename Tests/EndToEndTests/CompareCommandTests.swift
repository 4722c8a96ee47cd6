import Foundation
import XCTest

/// `octopus compare` on a small matrix: complete, and byte-identical whatever --jobs is.
final class CompareCommandTests: XCTestCase {
    func testCompareIsDeterministicAndComplete() throws {
        let directory = try makeTemporaryDirectory("compare")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = [
            "compare", "--wafer", "Configs/wafers/small-2x2.yaml", "--sizes", "2x2", "--workloads", "small",
            "--reference-clusters", "4", "--loads", "1,2", "--quiet",
        ]
        var outputs: [(md: String, csv: String)] = []
        for jobs in ["1", "2"] {
            let out = directory + "/jobs" + jobs
            let result = try octopus(
                arguments + ["--jobs", jobs, "--out", out], in: directory, name: "compare-\(jobs)", seconds: 600)
            XCTAssertEqual(result.status, 0, result.stderr)
            let md = try String(contentsOfFile: out + "/compare.md", encoding: .utf8)
            XCTAssertEqual(
                result.stdout.trimmingCharacters(in: .newlines), md.trimmingCharacters(in: .newlines),
                "the report is printed too")
            outputs.append((md, try String(contentsOfFile: out + "/compare.csv", encoding: .utf8)))
        }
        XCTAssertEqual(outputs[0].md, outputs[1].md, "the Markdown does not depend on --jobs")
        XCTAssertEqual(outputs[0].csv, outputs[1].csv, "the CSV does not depend on --jobs")

        let md = outputs[0].md
        XCTAssertTrue(
            md.contains(
                "octopus compare --wafer Configs/wafers/small-2x2.yaml --workloads small --sizes 2x2 --loads 1,2 --reference-clusters 4"
            ), md)
        XCTAssertTrue(md.contains("Wafer seed 7"), "the seeds are documented")
        for heading in [
            "## Speedup of Octopus over each baseline", "## Ablation ladder", "## Absolute numbers",
            "**geometric mean**", "+ diffusion (= octopus)", "| ideal: perfect prediction (`octopus-clairvoyant`) |",
            "`octopus` against its ideal with perfect prediction (`octopus-clairvoyant`): ",
        ] {
            XCTAssertTrue(md.contains(heading), heading)
        }

        // Load 1: static, fifo, score, the four ladder steps, the clairvoyant ideal and the six
        // reactive settings; load 2: the eight fixed ones and the best reactive setting.
        let rows = outputs[0].csv.split(separator: "\n").dropFirst().map { csvFields(String($0)) }
        XCTAssertEqual(rows.count, 14 + 9)
        let schedulers = Set(rows.map { $0[4] })
        for name in [
            "static", "fifo", "score", "static+dual", "static+dual+adaptive", "static+dual+adaptive+proactive",
            "octopus", "octopus-clairvoyant",
        ] {
            XCTAssertTrue(schedulers.contains(name), name)
        }
        XCTAssertEqual(schedulers.filter { $0.hasPrefix("reactive:") }.count, 6, "the reactive sweep")
        XCTAssertTrue(rows.allSatisfy { $0[5] == "0" }, "one replicate: replicate 0")
        for row in rows {
            let injected = Int(row[6])!
            let completed = Int(row[7])!
            let rejected = Int(row[8])!
            XCTAssertEqual(completed + rejected, injected, "\(row[4]) at load \(row[3]): every request ends once")
            XCTAssertEqual(injected, row[3] == "1.00" ? 112 : 224, "the workload scaled by the load")
        }
    }

    /// `--seeds 3`: every cell three times with moved seeds; replicate 0 is the run of the seeds
    /// as written; speedups carry 95% intervals.
    func testSeedsReplicateEveryCellAndTheSpeedupsCarryConfidenceIntervals() throws {
        let directory = try makeTemporaryDirectory("compare-seeds")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = [
            "compare", "--wafer", "Configs/wafers/small-2x2.yaml", "--sizes", "2x2", "--workloads", "small",
            "--reference-clusters", "4", "--loads", "1", "--quiet", "--jobs", "2",
        ]
        var tables: [[[String]]] = []
        var markdown = ""
        for seeds in ["1", "3"] {
            let out = directory + "/seeds" + seeds
            // The replicated compare also runs a variant of the scheduler under test beside the matrix.
            let variant = seeds == "3" ? ["--variant", "octopus:lend=1"] : []
            let result = try octopus(
                arguments + ["--seeds", seeds, "--out", out] + variant, in: directory, name: "seeds" + seeds,
                seconds: 600)
            XCTAssertEqual(result.status, 0, result.stderr)
            let csv = try String(contentsOfFile: out + "/compare.csv", encoding: .utf8)
            tables.append(csv.split(separator: "\n").dropFirst().map { csvFields(String($0)) })
            markdown = try String(contentsOfFile: out + "/compare.md", encoding: .utf8)
        }
        let single = tables[0]
        let variantRows = tables[1].filter { $0[4] == "octopus:lend=1" }
        let replicated = tables[1].filter { $0[4] != "octopus:lend=1" }
        XCTAssertEqual(single.count, 14)
        XCTAssertEqual(replicated.count, 3 * 14, "every run of the cell in each replicate")
        XCTAssertEqual(variantRows.map { $0[5] }, ["0", "1", "2"], "the variant in every replicate")
        for replicate in ["0", "1", "2"] {
            XCTAssertEqual(replicated.filter { $0[5] == replicate }.count, 14, "replicate \(replicate)")
        }
        XCTAssertEqual(replicated.filter { $0[5] == "0" }, single, "replicate 0 is the run of the seeds as written")
        let p99s = ["0", "1", "2"].map { r in replicated.filter { $0[5] == r }.map { $0[11] } }
        XCTAssertNotEqual(p99s[0], p99s[1], "another seed, other draws")
        XCTAssertNotEqual(p99s[1], p99s[2])

        XCTAssertTrue(markdown.contains("--seeds 3 --variant octopus:lend=1"), "the command names them")
        XCTAssertTrue(markdown.contains("## Variants") && markdown.contains("| `octopus:lend=1` |"), markdown)
        XCTAssertTrue(markdown.contains("Replicates: 3 runs of every cell"), markdown)
        // Every speedup cell of the tables is an estimate with its interval, e.g. "1.23× (1.01–1.50)".
        let cell = try NSRegularExpression(pattern: #"\| \**\d+\.\d\d× \(\d+\.\d\d–\d+\.\d\d\)( n\.s\.)?\**"#)
        let cells = cell.numberOfMatches(in: markdown, range: NSRange(markdown.startIndex..., in: markdown))
        // The workload row and the geometric mean (4 baselines × 2 metrics), the same for both
        // schedulers in the variants table, and the variant against octopus (2 metrics).
        XCTAssertEqual(cells, 2 * 8 + 2 * 8 + 2)
    }

    /// `--shard I/N` + `compare merge`, and an interrupted compare continued with `--resume`, give
    /// the reports of one uninterrupted compare, byte for byte.
    func testShardsMergeAndAnInterruptedCompareResumesToTheSameReports() throws {
        let directory = try makeTemporaryDirectory("compare-shards")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Two cells (1x2 and 2x2 with the small workload), so two shards have one each.
        let arguments = [
            "compare", "--wafer", "Configs/wafers/small-2x2.yaml", "--sizes", "1x2,2x2", "--workloads", "small",
            "--reference-clusters", "4", "--loads", "1,2", "--quiet", "--jobs", "2",
        ]
        func reports(_ out: String) throws -> [String] {
            try ["compare.md", "compare.csv", "compare.html"].map {
                try String(contentsOfFile: out + "/" + $0, encoding: .utf8)
            }
        }
        let whole = try octopus(
            arguments + ["--out", directory + "/whole"], in: directory, name: "whole", seconds: 600)
        XCTAssertEqual(whole.status, 0, whole.stderr)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: directory + "/whole/compare-runs.jsonl"),
            "a finished compare leaves no journal")
        let expected = try reports(directory + "/whole")

        for shard in ["1/2", "2/2"] {
            let result = try octopus(
                arguments + ["--shard", shard, "--out", directory + "/shard" + shard.prefix(1)], in: directory,
                name: "shard" + shard.prefix(1), seconds: 600)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stderr.contains("23 runs"), result.stderr)
        }
        let missing = try octopus(
            ["compare", "merge", directory + "/shard1", "--out", directory + "/merged"], in: directory, name: "missing")
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("not all of 1/N … N/N"), missing.stderr)
        let merged = try octopus(
            [
                "compare", "merge", directory + "/shard2", directory + "/shard1", "--out", directory + "/merged",
                "--quiet",
            ],
            in: directory, name: "merge")
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertEqual(try reports(directory + "/merged"), expected, "the merged shards differ from one compare")
        // Every run records the build that made it: the report names it, and shards of two builds
        // are merged with each build and its count of runs named.
        let build = try buildID(of: octopusBinary)
        XCTAssertTrue(expected[0].contains("with octopus build `\(build)`; every run"), expected[0])
        try FileManager.default.createDirectory(atPath: directory + "/other", withIntermediateDirectories: true)
        let journal2 = try String(contentsOfFile: directory + "/shard2/compare-runs.jsonl", encoding: .utf8)
        XCTAssertEqual(journal2.components(separatedBy: "\"build\":\"\(build)\"").count - 1, 23, "a build per run")
        try journal2.replacingOccurrences(of: build, with: "feedface").write(
            toFile: directory + "/other/compare-runs.jsonl", atomically: true, encoding: .utf8)
        let mixed = try octopus(
            [
                "compare", "merge", directory + "/shard1", directory + "/other", "--out", directory + "/mixed",
                "--quiet",
            ],
            in: directory, name: "mixed")
        XCTAssertEqual(mixed.status, 0, mixed.stderr)
        let mixedReport = try reports(directory + "/mixed")[0]
        XCTAssertTrue(
            mixedReport.contains(
                "with 2 octopus builds — `\(build)` (23 runs), `feedface` (23 runs) — whose results agree only if they were built from the same sources"
            ), mixedReport)
        // A finished compare's reports are not replaced without --overwrite (they were, silently).
        let mergeArguments = [
            "compare", "merge", directory + "/shard2", directory + "/shard1", "--out", directory + "/whole",
        ]
        for again in [
            try octopus(arguments + ["--sizes", "1x2", "--out", directory + "/whole"], in: directory, name: "again"),
            try octopus(mergeArguments, in: directory, name: "merge-again"),
        ] {
            XCTAssertEqual(again.status, 64, again.stderr)
            XCTAssertTrue(
                again.stderr.contains(
                    "--out '\(directory)/whole' already holds a finished compare (compare.md, compare.csv, compare.html)"
                ),
                again.stderr)
        }
        XCTAssertEqual(try reports(directory + "/whole"), expected, "left as it was")
        let replaced = try octopus(mergeArguments + ["--overwrite", "--quiet"], in: directory, name: "merge-overwrite")
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertEqual(try reports(directory + "/whole"), expected)

        // Killed after a few runs (perhaps mid-line), then continued.
        let out = directory + "/interrupted"
        let journal = out + "/compare-runs.jsonl"
        let killed = try Launched(arguments + ["--jobs", "1", "--out", out], in: directory, name: "killed")
        XCTAssertTrue(
            eventually(300) {
                ((try? String(contentsOfFile: journal, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= 5
            }, "the journal grows as runs finish")
        kill(killed.pid, SIGKILL)
        _ = killed.wait(seconds: 30)
        let refused = try octopus(arguments + ["--out", out], in: directory, name: "refused")
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("give --resume"), refused.stderr)
        let resumed = try octopus(
            Array(arguments.dropLast(2)) + ["--resume", "--out", out], in: directory, name: "resumed", seconds: 600)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try reports(out), expected, "the resumed compare differs from one uninterrupted")
    }

    /// A workload that names its own workflow directory runs with that library, and
    /// --scheduler-parameters reaches every scheduler that has the parameter while runs keep
    /// their plain names.
    func testAWorkloadWithItsOwnWorkflowsAndSchedulerParameters() throws {
        let directory = try makeTemporaryDirectory("compare-own")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/flows", withIntermediateDirectories: true)
        try """
        name: only-here
        blocks:
          - {name: work, task: [{gemm: [64, 64, 64]}], output_bytes: 64, next: more}
          - {name: more, task: [{cycles: 20000}]}
        """.write(toFile: directory + "/flows/only-here.yaml", atomically: true, encoding: .utf8)
        try """
        workflows: flows
        injections:
          - {workflow: only-here, count: 40, arrival: {process: poisson, mean_interval_cycles: 20000}, seed: 9}
        """.write(toFile: directory + "/own.yaml", atomically: true, encoding: .utf8)
        let out = directory + "/out"
        let result = try octopus(
            [
                "compare", "--wafer", "Configs/wafers/small-2x2.yaml", "--sizes", "2x2", "--workloads",
                directory + "/own.yaml", "--reference-clusters", "4", "--loads", "1", "--quiet", "--jobs", "2",
                "--scheduler-parameters", "period=50000", "--out", out,
            ], in: directory, name: "own", seconds: 600)
        XCTAssertEqual(result.status, 0, result.stderr)
        let md = try String(contentsOfFile: out + "/compare.md", encoding: .utf8)
        XCTAssertTrue(md.contains("its own workflows"), md)
        XCTAssertTrue(md.contains("Scheduler parameters: `period=50000`"), md)
        let rows = try String(contentsOfFile: out + "/compare.csv", encoding: .utf8).split(separator: "\n")
            .dropFirst().map { csvFields(String($0)) }
        XCTAssertEqual(rows.count, 14)
        XCTAssertTrue(rows.contains { $0[4] == "octopus" }, "runs keep their plain names")
        XCTAssertTrue(rows.allSatisfy { Int($0[7])! + Int($0[8])! == 40 }, "every request of the workload ends")

        let bad = try octopus(
            ["compare", "--scheduler-parameters", "depth=3"], in: directory, name: "bad-parameter", seconds: 60)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--scheduler-parameters: 'depth=3'"), bad.stderr)
        let range = try octopus(
            ["compare", "--scheduler-parameters", "period=5"], in: directory, name: "bad-range", seconds: 60)
        XCTAssertNotEqual(range.status, 0)
        XCTAssertTrue(range.stderr.contains("--scheduler-parameters:") && range.stderr.contains("period"), range.stderr)
    }

    func testBadMatrixArgumentsAreClearErrors() throws {
        let directory = try makeTemporaryDirectory("compare-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let size = try octopus(["compare", "--sizes", "4by4"], in: directory, name: "size", seconds: 60)
        XCTAssertNotEqual(size.status, 0)
        XCTAssertTrue(size.stderr.contains("--sizes: '4by4'"), size.stderr)
        let load = try octopus(["compare", "--loads", "1,-2"], in: directory, name: "load", seconds: 60)
        XCTAssertNotEqual(load.status, 0)
        XCTAssertTrue(load.stderr.contains("--loads: '-2'"), load.stderr)
        // Loads that overflowed the scaled arrivals or request counts (SIGILL) are refused too.
        for huge in ["1e300", "1e-300", "101"] {
            let refused = try octopus(["compare", "--loads", huge], in: directory, name: "load", seconds: 60)
            XCTAssertEqual(refused.status, 64, refused.stderr)
            XCTAssertTrue(refused.stderr.contains("--loads: '\(huge)' is not a load from 0.01 to 100"), refused.stderr)
        }
        let workload = try octopus(
            ["compare", "--workloads", "nope", "--sizes", "2x2"], in: directory, name: "workload", seconds: 60)
        XCTAssertEqual(workload.status, 2)
        XCTAssertTrue(workload.stderr.contains("nope.yaml"), workload.stderr)
        let admission = try octopus(
            ["compare", "--admission", "lottery"], in: directory, name: "admission", seconds: 60)
        XCTAssertNotEqual(admission.status, 0)
        XCTAssertTrue(
            admission.stderr.contains("--admission: 'lottery' is not one of: queues, in_flight"), admission.stderr)
        let variant = try octopus(
            ["compare", "--variant", "octopus:lend=7"], in: directory, name: "variant", seconds: 60)
        XCTAssertNotEqual(variant.status, 0)
        XCTAssertTrue(variant.stderr.contains("--variant:") && variant.stderr.contains("lend"), variant.stderr)
        let seeds = try octopus(["compare", "--seeds", "0"], in: directory, name: "seeds", seconds: 60)
        XCTAssertNotEqual(seeds.status, 0)
        XCTAssertTrue(seeds.stderr.contains("--seeds: 0"), seeds.stderr)
    }
}

/// The fields of one CSV line (RFC 4180 quoting).
func csvFields(_ line: String) -> [String] {
    var fields: [String] = []
    var field = ""
    var quoted = false
    var previousQuote = false
    for character in line {
        if quoted {
            if character == "\"" {
                quoted = false
                previousQuote = true
            } else {
                field.append(character)
            }
        } else if character == "\"" {
            if previousQuote { field.append("\"") }
            quoted = true
            previousQuote = false
        } else if character == "," {
            fields.append(field)
            field = ""
            previousQuote = false
        } else {
            field.append(character)
            previousQuote = false
        }
    }
    fields.append(field)
    return fields
}
