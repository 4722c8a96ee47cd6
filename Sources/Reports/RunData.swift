import Emulation
import Foundation
import WaferModel

/// What `octopus report` reads from one run directory: `summary.json`, `wafer.json`,
/// `requests.csv` and `timeline.csv` (written by every `run` and `coordinator`).
public struct RunData {
    /// One finished request.
    public struct Request {
        public var workflow: String
        public var completed: Bool
        public var injected: Cycle
        public var finished: Cycle
    }

    /// One bin of one cluster's PE-array time.
    public struct TimelineBin {
        public var cluster: Int
        public var start: Cycle
        public var end: Cycle
        public var busy: Double
        public var reconfiguring: Double
        /// Idle shares (nil in runs that stopped before their clusters reported, or older runs).
        public var starved: Double?
        public var unassigned: Double?
        public var blocked: Double?
    }

    /// One row of `episodes.csv`: an imbalance episode or a cascade of idleness.
    public struct Episode {
        public var kind: String
        public var start: Cycle
        public var end: Cycle
        public var peakImbalance: Double?
        public var clusters: [Int]
        public var idlePeriods: Int?
        public var open: Bool
    }

    /// The run's name in the report (its directory's name).
    public var name: String
    public var directory: String
    public var summary: RunSummary
    public var wafer: WaferConfig
    public var requests: [Request]
    public var timeline: [TimelineBin]
    /// Empty for runs written before `episodes.csv` existed.
    public var episodes: [Episode]
    /// The clusters' idle time split over time is known (`timeline.csv` has the idle columns).
    public var hasIdleTimeline: Bool { !timeline.isEmpty && timeline.allSatisfy { $0.starved != nil } }

    /// A run directory's files that cannot be read or make no sense.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the run in `directory`.
    public init(directory: String) throws {
        self.directory = directory
        name = (directory as NSString).lastPathComponent
        func path(_ file: String) -> String { (directory as NSString).appendingPathComponent(file) }
        func data(_ file: String) throws -> Data {
            guard let data = FileManager.default.contents(atPath: path(file)) else {
                throw Failure(
                    description:
                        "\(path(file)): no such file (a run directory of `octopus run` or `octopus coordinator` holds summary.json, wafer.json, requests.csv and timeline.csv)"
                )
            }
            return data
        }
        do {
            summary = try SummaryRenderer.decode(data("summary.json"))
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(path("summary.json")): not a run summary (\(error))")
        }
        do {
            let text = try data("wafer.json")
            // Runs before December 2026 wrote the configuration's own encoding (keys such as
            // `clockMHz`); since then the wafer file's format, which the loader checks in full.
            if let old = try? JSONDecoder().decode(WaferConfig.self, from: text) {
                wafer = old
            } else {
                guard let string = String(data: text, encoding: .utf8) else {
                    throw Failure(description: "\(path("wafer.json")): not UTF-8 text")
                }
                wafer = try WaferConfigLoader.parse(string, file: path("wafer.json"))
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as ConfigError {
            throw Failure(description: "\(error)")
        } catch {
            throw Failure(description: "\(path("wafer.json")): not a wafer configuration (\(error))")
        }
        try Self.check(summary: summary, file: path("summary.json"))
        try Self.check(wafer: wafer, file: path("wafer.json"), clusters: summary.results.clusters)
        requests = try Self.rows(path("requests.csv"), data("requests.csv"), columns: [7]) { cells in
            guard let injected = Cycle(cells[3]), let finished = Cycle(cells[4]) else { return nil }
            try Self.check(cycles: injected, column: "injected_cycle")
            try Self.check(cycles: finished, column: "finished_cycle")
            guard finished >= injected else {
                throw BadRow(detail: "finished_cycle \(finished) is before injected_cycle \(injected)")
            }
            return Request(
                workflow: cells[1], completed: cells[2] == "completed", injected: injected, finished: finished)
        }
        // Five columns in runs written before the idle columns were added.
        let clusters = summary.results.clusters
        timeline = try Self.rows(path("timeline.csv"), data("timeline.csv"), columns: [5, 8]) { cells in
            guard let cluster = Int(cells[0]), let start = Cycle(cells[1]), let end = Cycle(cells[2]),
                let busy = Double(cells[3]), let reconfiguring = Double(cells[4])
            else { return nil }
            guard (0..<clusters).contains(cluster) else {
                throw BadRow(
                    detail: "cluster \(cluster) is not one of the run's \(clusters) clusters (0 to \(clusters - 1))")
            }
            try Self.check(span: start, end)
            var bin = TimelineBin(cluster: cluster, start: start, end: end, busy: busy, reconfiguring: reconfiguring)
            if cells.count == 8, !cells[5].isEmpty {
                guard let starved = Double(cells[5]), let unassigned = Double(cells[6]), let blocked = Double(cells[7])
                else { return nil }
                (bin.starved, bin.unassigned, bin.blocked) = (starved, unassigned, blocked)
            }
            for (share, column) in [
                (busy, "busy"), (reconfiguring, "reconfiguring"), (bin.starved ?? 0, "starved"),
                (bin.unassigned ?? 0, "unassigned"), (bin.blocked ?? 0, "blocked"),
            ] where !(share.isFinite && share >= 0) {
                throw BadRow(detail: "\(column) \(share) is not a share of the bin's time (a number from 0)")
            }
            return bin
        }
        try Self.checkBinsPerCluster(timeline, clusters: clusters, file: path("timeline.csv"))
        if FileManager.default.fileExists(atPath: path("episodes.csv")) {
            episodes = try Self.rows(path("episodes.csv"), data("episodes.csv"), columns: [7]) { cells in
                guard let start = Cycle(cells[1]), let end = Cycle(cells[2]) else { return nil }
                try Self.check(span: start, end)
                let clusters = cells[4].split(separator: " ").compactMap { Int($0) }
                return Episode(
                    kind: cells[0], start: start, end: end, peakImbalance: Double(cells[3]), clusters: clusters,
                    idlePeriods: Int(cells[5]), open: cells[6] == "true")
            }
        } else {
            episodes = []
        }
    }

    /// What is wrong with one row of a table (the file and line are added where it is read).
    struct BadRow: Error {
        var detail: String
    }

    /// A run's own values are bounded (``Limits``): a clock from 1 to 100,000 MHz as in a wafer
    /// file, clusters as a mesh can hold, virtual times before ``Limits/horizon``. Anything else was
    /// not written by a run, and the report's arithmetic on it could overflow.
    static func check(summary: RunSummary, file: String) throws {
        let results = summary.results
        let most = Limits.meshSide.upperBound * Limits.meshSide.upperBound
        if !(1...100_000).contains(results.clockMhz) {
            throw Failure(description: "\(file): results.clock_mhz must be 1 to 100000, not \(results.clockMhz)")
        }
        if !(1...most).contains(results.clusters) {
            throw Failure(description: "\(file): results.clusters must be 1 to \(most), not \(results.clusters)")
        }
        if results.endCycles > Limits.horizon {
            throw Failure(
                description:
                    "\(file): results.end_cycles \(results.endCycles) is beyond any run's end (\(Limits.horizon))")
        }
    }

    /// The mesh the heat map draws: sides as a wafer file allows them, dies that tile it, and as
    /// many clusters as the summary reports.
    static func check(wafer: WaferConfig, file: String, clusters: Int) throws {
        let side = Limits.meshSide
        for (value, field) in [(wafer.rows, "rows"), (wafer.columns, "columns")] where !side.contains(value) {
            throw Failure(
                description: "\(file): \(field) must be \(side.lowerBound) to \(side.upperBound), not \(value)")
        }
        for (die, side, field) in [
            (wafer.dieRows, wafer.rows, "dieRows"), (wafer.dieColumns, wafer.columns, "dieColumns"),
        ]
        where !(1...side).contains(die) || side % die != 0 {
            throw Failure(description: "\(file): \(field) \(die) does not tile the mesh's \(side)")
        }
        if wafer.clusterCount != clusters {
            throw Failure(
                description:
                    "\(file): a \(wafer.rows)×\(wafer.columns) mesh, but summary.json reports \(clusters) clusters (files of different runs?)"
            )
        }
    }

    static func check(cycles: Cycle, column: String) throws {
        if cycles > Limits.horizon {
            throw BadRow(detail: "\(column) \(cycles) is beyond any run's end (\(Limits.horizon))")
        }
    }

    static func check(span start: Cycle, _ end: Cycle) throws {
        try check(cycles: start, column: "start_cycle")
        try check(cycles: end, column: "end_cycle")
        if end < start { throw BadRow(detail: "end_cycle \(end) is before start_cycle \(start)") }
    }

    /// Every cluster has a row for every bin (as runs write the table), so the wafer's lines add
    /// the clusters' bins one by one.
    static func checkBinsPerCluster(_ timeline: [TimelineBin], clusters: Int, file: String) throws {
        guard !timeline.isEmpty else { return }
        var bins = [Int](repeating: 0, count: clusters)
        for bin in timeline { bins[bin.cluster] += 1 }
        if let odd = bins.indices.first(where: { bins[$0] != bins[0] }) {
            throw Failure(
                description:
                    "\(file): cluster \(odd) has \(bins[odd]) rows and cluster 0 has \(bins[0]) (a run writes one row per cluster and bin)"
            )
        }
    }

    /// Parses a CSV with a header row; `make` turns each row's cells into a value (nil: malformed).
    /// `make` may throw ``BadRow`` to say what is wrong with a row's values.
    static func rows<T>(_ file: String, _ data: Data, columns: Set<Int>, make: ([String]) throws -> T?) throws -> [T] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw Failure(description: "\(file): not UTF-8 text")
        }
        var values: [T] = []
        // Numbered as in the file, blank lines (and the empty end after the last newline) skipped.
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().dropFirst()
        where !line.isEmpty && line != "\r" {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let made: T?
            do {
                made = columns.contains(cells.count) ? try make(cells) : nil
            } catch let bad as BadRow {
                throw Failure(description: "\(file):\(number + 1): \(bad.detail)")
            }
            guard let value = made else {
                let expected = columns.sorted().map(String.init).joined(separator: " or ")
                throw Failure(description: "\(file):\(number + 1): expected \(expected) well-formed columns")
            }
            values.append(value)
        }
        return values
    }
}
