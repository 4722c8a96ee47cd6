import ArgumentParser
import Foundation
import Reports

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report of one or more runs (plots of latency, throughput, utilisation).",
        discussion: """
            Reads each run directory (summary.json, wafer.json, requests.csv and timeline.csv, as `octopus run` \
            and `octopus coordinator` write them) and writes one report.html that opens offline: per-workflow \
            latency distributions and percentiles, throughput and requests in flight over virtual time, PE-array \
            time over virtual time and per cluster, a heat map of the wafer, load imbalance and contagious \
            idleness, and the emulator's own cost. Several directories are compared side by side first.

            Example: octopus report runs/a runs/b --out comparison.html
            """)

    @Argument(help: "Run directories.") var runs: [String]

    @Option(help: "The file to write (default: report.html in the run directory; with several, in the current one).")
    var out: String?

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one run directory") }
    }

    func run() throws {
        do {
            let path = try ReportWriter.write(runs: runs, to: out)
            print("wrote \(path)")
        } catch {
            exitReporting(error)
        }
    }
}

/// Writes report.html for run directories (shared by `octopus report` and `octopus run --report`).
enum ReportWriter {
    static func write(runs: [String], to out: String?) throws -> String {
        let data = try runs.map { try RunData(directory: $0) }
        let path =
            out ?? (runs.count == 1 ? (runs[0] as NSString).appendingPathComponent("report.html") : "report.html")
        try ReportPage.html(runs: data, chartLibrary: ChartLibrary.source()).write(
            toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
