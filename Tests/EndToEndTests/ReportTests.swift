import Foundation
import WaferModel
import XCTest

/// `octopus report`, `run --report` and `compare`'s compare.html, rendered in a real browser
/// (headless Chromium): no script error, and every chart drew (its canvas holds pixels). A
/// screenshot of each page is left in `.build/report-screenshots/` for people to look at.
final class ReportTests: XCTestCase {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Renders `page` and returns the <body> attributes the page's script set, after checking
    /// that the browser reported no console error.
    func render(_ page: String, screenshot name: String, in directory: String) throws -> [String: String] {
        guard let chromium = Self.chromium else {
            throw XCTSkip("Chromium is not installed (scripts/ensure-deps --test installs it)")
        }
        let flags = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=10000",
            "--user-data-dir=\(directory)/chromium-profile", "--enable-logging=stderr", "--v=0",
        ]
        let dump = try Launched(
            flags + ["--dump-dom", "file://" + page], in: directory, name: "dom-\(name)", executable: chromium)
        XCTAssertEqual(dump.wait(seconds: 120), 0, dump.stderr)
        // Console messages of the page are logged as CONSOLE lines; errors must not appear.
        let consoleErrors = dump.stderr.split(separator: "\n").filter {
            $0.contains("CONSOLE") && ($0.contains("Uncaught") || $0.contains("Error"))
        }
        XCTAssertEqual(consoleErrors, [], "console errors in \(page)")
        guard let body = dump.stdout.range(of: "<body[^>]*>", options: .regularExpression) else {
            XCTFail("no <body> in the rendered page: \(dump.stdout.prefix(500))")
            return [:]
        }
        var attributes: [String: String] = [:]
        let tag = String(dump.stdout[body])
        let pattern = try NSRegularExpression(pattern: #"([a-z-]+)="([^"]*)""#)
        for match in pattern.matches(in: tag, range: NSRange(tag.startIndex..., in: tag)) {
            attributes[String(tag[Range(match.range(at: 1), in: tag)!])] = String(
                tag[Range(match.range(at: 2), in: tag)!])
        }
        let shots = repositoryRoot + "/.build/report-screenshots"
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let shot = try Launched(
            flags + ["--window-size=1280,3000", "--screenshot=\(shots)/\(name).png", "file://" + page], in: directory,
            name: "shot-\(name)", executable: chromium)
        XCTAssertEqual(shot.wait(seconds: 120), 0, shot.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(shots)/\(name).png"))
        return attributes
    }

    func checkEveryChartDrew(_ attributes: [String: String], expected: Int, _ page: String) {
        XCTAssertNil(attributes["data-errors"], "script errors in \(page): \(attributes["data-errors"] ?? "")")
        XCTAssertEqual(attributes["data-charts"], "\(expected)", "charts made in \(page)")
        XCTAssertEqual(attributes["data-charts-drawn"], "\(expected)", "charts with pixels in \(page)")
    }

    func testReportsOfOneAndTwoRunsAndTheComparePageDrawInABrowser() throws {
        let directory = try makeTemporaryDirectory("report")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = directory + "/octopus"
        let run = try octopus(
            [
                "run", "--quiet", "--report", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload",
                "Configs/workloads/suite-small.yaml", "--out", first,
            ], in: directory, name: "run")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("wrote \(first)/report.html"), run.stdout)
        let page = try String(contentsOfFile: first + "/report.html", encoding: .utf8)
        XCTAssertFalse(page.contains("src=\"http"), "the report loads nothing from the network")
        // One run: latency, traffic, the wafer's PE-array states over time, each cluster's busy
        // share over time, the breakdown per cluster, imbalance.
        let one = try render(first + "/report.html", screenshot: "run", in: directory)
        checkEveryChartDrew(one, expected: 6, "one run")
        XCTAssertEqual(one["data-states"], "5", "busy, reconfiguring, starved, unassigned and blocked over time")
        XCTAssertEqual(one["data-mesh-cells"], "4")
        let summary = try readJSON(first + "/summary.json")
        let links = try XCTUnwrap((summary["results"] as? [String: Any])?["links"] as? [[String: Any]])
        XCTAssertFalse(links.isEmpty, "task flows crossed links")
        XCTAssertEqual(one["data-mesh-links"], "\(links.count)/\(links.count)", "an arrow for every link with traffic")
        XCTAssertTrue(page.contains("Imbalance episodes and cascades of idleness"))
        // How the run was made: a table of the files it read (a header row and one per file).
        let inputs = try XCTUnwrap((summary["host"] as? [String: Any])?["inputs"] as? [[String: Any]])
        XCTAssertGreaterThan(inputs.count, 3, "the wafer, the workload and its workflows")
        XCTAssertEqual(one["data-provenance"], "1/\(inputs.count + 1)")
        XCTAssertTrue(page.contains(try buildID(of: octopusBinary)), "the build is named")

        // The second run on a wafer with a dead cluster, a dead TBU and a dead link.
        let second = directory + "/static"
        let other = try octopus(
            [
                "run", "--quiet", "--single-process", "--scheduler", "static", "--wafer",
                "Configs/wafers/defective-3x3.yaml",
                "--workload", "Configs/workloads/suite-small.yaml", "--out", second,
            ], in: directory, name: "static")
        XCTAssertEqual(other.status, 0, other.stderr)
        // The second run as an older version wrote it: no idle columns, no episodes.csv, the
        // wafer in the configuration's own encoding (keys such as clockMHz).
        let wafer = try WaferConfigLoader.load(path: second + "/wafer.json")
        XCTAssertFalse(wafer.defects.isEmpty)
        try JSONEncoder().encode(wafer).write(to: URL(fileURLWithPath: second + "/wafer.json"))
        let timeline = try String(contentsOfFile: second + "/timeline.csv", encoding: .utf8)
        try timeline.split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).prefix(5).joined(separator: ",")
        }
        .joined(separator: "\n").write(toFile: second + "/timeline.csv", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: second + "/episodes.csv")
        let both = directory + "/both.html"
        let report = try octopus(["report", first, second, "--out", both], in: directory, name: "report")
        XCTAssertEqual(report.status, 0, report.stderr)
        // Two runs: the comparison's two charts, then six per run.
        let two = try render(both, screenshot: "two-runs", in: directory)
        checkEveryChartDrew(two, expected: 14, "two runs")
        XCTAssertEqual(two["data-states"], "5,2", "the older run's timeline has busy and reconfiguring only")
        XCTAssertEqual(two["data-mesh-cells"], "13")
        XCTAssertEqual(one["data-mesh-defects"], "0")
        XCTAssertEqual(two["data-mesh-defects"], "3", "cluster 4 crossed out, cluster 2's dead TBU, link 0–1")
        XCTAssertEqual(two["data-provenance"]?.hasPrefix("2/"), true, "each run says how it was made")

        let compare = try octopus(
            [
                "compare", "--sizes", "2x2", "--workloads", "recsys", "--loads", "1", "--quiet", "--out",
                directory + "/cmp",
            ],
            in: directory, name: "compare", seconds: 300)
        XCTAssertEqual(compare.status, 0, compare.stderr)
        checkEveryChartDrew(
            try render(directory + "/cmp/compare.html", screenshot: "compare", in: directory), expected: 4, "compare")
    }

    func testAReportOfSomethingThatIsNotARunSaysWhatIsMissing() throws {
        let directory = try makeTemporaryDirectory("report-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try octopus(["report", directory], in: directory, name: "report")
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("summary.json: no such file"), result.stderr)
    }

    /// A run directory whose files were edited into something no run writes is an error naming
    /// the file (and line, and what is wrong), not a crash: each of these crashed `octopus report`
    /// (SIGILL: a time subtracted from an earlier one, a cluster outside the wafer, clusters with
    /// different numbers of bins, a clock of 0 MHz, a summary claiming 2^32 clusters, a time near
    /// 2^64).
    func testEditedRunFilesAreErrorsNamingTheFile() throws {
        let directory = try makeTemporaryDirectory("report-edited")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = directory + "/run"
        let made = try octopus(
            ["run", "--wafer", "Configs/wafers/small-2x2.yaml", "--single-process", "--quiet", "--out", run],
            in: directory, name: "run", seconds: 120)
        XCTAssertEqual(made.status, 0, made.stderr)
        // A report that cannot be written says where and why, not Foundation's error dump.
        for (out, message) in [
            (directory, "cannot write '\(directory)': Is a directory"),
            (
                "/proc/octopus-\(getpid())/report.html",
                "'/proc/octopus-\(getpid())/report.html': No such file or directory"
            ),
        ] {
            let refused = try octopus(["report", run, "--out", out], in: directory, name: "unwritable")
            XCTAssertEqual(refused.status, 1, refused.stderr)
            XCTAssertTrue(refused.stderr.contains(message), refused.stderr)
            XCTAssertFalse(refused.stderr.contains("NSCocoaErrorDomain"), refused.stderr)
        }
        func lines(_ file: String) throws -> [String] {
            try String(contentsOfFile: run + "/" + file, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        /// Row `row` (1: the first after the header) with column `column` set to `value`.
        func cell(_ file: String, row: Int, column: Int, _ value: String) throws -> String {
            var rows = try lines(file)
            var cells = rows[row].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells[column] = value
            rows[row] = cells.joined(separator: ",")
            return rows.joined(separator: "\n") + "\n"
        }
        let summary = try String(contentsOfFile: run + "/summary.json", encoding: .utf8)
        let wafer = try String(contentsOfFile: run + "/wafer.json", encoding: .utf8)
        let cases: [(file: String, text: String, message: String)] = [
            (
                "requests.csv", try cell("requests.csv", row: 1, column: 4, "0"),
                "requests.csv:2: finished_cycle 0 is before"
            ),
            (
                "requests.csv", try cell("requests.csv", row: 1, column: 3, "18446744073709551615"),
                "requests.csv:2: injected_cycle 18446744073709551615 is beyond any run's end"
            ),
            (
                "timeline.csv", try cell("timeline.csv", row: 1, column: 0, "-1"),
                "timeline.csv:2: cluster -1 is not one of"
            ),
            (
                "timeline.csv", try cell("timeline.csv", row: 1, column: 0, "4"),
                "timeline.csv:2: cluster 4 is not one of"
            ),
            ("timeline.csv", try cell("timeline.csv", row: 2, column: 2, "0"), "timeline.csv:3: end_cycle 0 is before"),
            (
                "timeline.csv", try cell("timeline.csv", row: 1, column: 3, "nan"),
                "timeline.csv:2: busy nan is not a share"
            ),
            // Lines are counted as in the file, blank ones too.
            (
                "timeline.csv",
                try cell("timeline.csv", row: 2, column: 3, "nan").replacingOccurrences(of: "\n", with: "\n\n"),
                "timeline.csv:5: busy nan is not a share"
            ),
            (
                "timeline.csv", (try lines("timeline.csv").dropLast()).joined(separator: "\n") + "\n",
                "timeline.csv: cluster 3 has"
            ),
            ("episodes.csv", try cell("episodes.csv", row: 1, column: 2, "0"), "episodes.csv:2: end_cycle 0 is before"),
            (
                "summary.json", summary.replacingOccurrences(of: #""clock_mhz" : 1000"#, with: #""clock_mhz" : 0"#),
                "summary.json: results.clock_mhz must be 1 to 100000, not 0"
            ),
            (
                "summary.json",
                summary.replacingOccurrences(of: #""clusters" : 4,"#, with: #""clusters" : 4294967296,"#),
                "summary.json: results.clusters must be 1 to 65536"
            ),
            (
                "wafer.json", wafer.replacingOccurrences(of: #""rows" : 2"#, with: #""rows" : 300"#),
                "wafer.json:41: mesh.rows: must be between 1 and 256, found 300"
            ),
            (
                "wafer.json", wafer.replacingOccurrences(of: #""rows" : 2"#, with: #""rows" : 1"#),
                "a 1×2 mesh, but summary.json reports 4"
            ),
        ]
        for (index, bad) in cases.enumerated() {
            let copy = directory + "/edited\(index)"
            try FileManager.default.copyItem(atPath: run, toPath: copy)
            let original = try String(contentsOfFile: copy + "/" + bad.file, encoding: .utf8)
            XCTAssertNotEqual(original, bad.text, "case \(index) changes \(bad.file)")
            try bad.text.write(toFile: copy + "/" + bad.file, atomically: true, encoding: .utf8)
            let result = try octopus(["report", copy], in: directory, name: "edited\(index)")
            XCTAssertEqual(result.status, 2, "case \(index): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(bad.message), "case \(index): \(result.stderr)")
        }
        let intact = try octopus(["report", run], in: directory, name: "intact")
        XCTAssertEqual(intact.status, 0, intact.stderr)
    }
}
