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
            wafer = try JSONDecoder().decode(WaferConfig.self, from: data("wafer.json"))
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(path("wafer.json")): not a wafer configuration (\(error))")
        }
        requests = try Self.rows(path("requests.csv"), data("requests.csv"), columns: [7]) { cells in
            guard let injected = Cycle(cells[3]), let finished = Cycle(cells[4]) else { return nil }
            return Request(
                workflow: cells[1], completed: cells[2] == "completed", injected: injected, finished: finished)
        }
        // Five columns in runs written before the idle columns were added.
        timeline = try Self.rows(path("timeline.csv"), data("timeline.csv"), columns: [5, 8]) { cells in
            guard let cluster = Int(cells[0]), let start = Cycle(cells[1]), let end = Cycle(cells[2]),
                let busy = Double(cells[3]), let reconfiguring = Double(cells[4])
            else { return nil }
            var bin = TimelineBin(cluster: cluster, start: start, end: end, busy: busy, reconfiguring: reconfiguring)
            if cells.count == 8, !cells[5].isEmpty {
                guard let starved = Double(cells[5]), let unassigned = Double(cells[6]), let blocked = Double(cells[7])
                else { return nil }
                (bin.starved, bin.unassigned, bin.blocked) = (starved, unassigned, blocked)
            }
            return bin
        }
        if FileManager.default.fileExists(atPath: path("episodes.csv")) {
            episodes = try Self.rows(path("episodes.csv"), data("episodes.csv"), columns: [7]) { cells in
                guard let start = Cycle(cells[1]), let end = Cycle(cells[2]) else { return nil }
                let clusters = cells[4].split(separator: " ").compactMap { Int($0) }
                return Episode(
                    kind: cells[0], start: start, end: end, peakImbalance: Double(cells[3]), clusters: clusters,
                    idlePeriods: Int(cells[5]), open: cells[6] == "true")
            }
        } else {
            episodes = []
        }
    }

    /// Parses a CSV with a header row; `make` turns each row's cells into a value (nil: malformed).
    static func rows<T>(_ file: String, _ data: Data, columns: Set<Int>, make: ([String]) -> T?) throws -> [T] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw Failure(description: "\(file): not UTF-8 text")
        }
        var values: [T] = []
        for (number, line) in text.split(separator: "\n").enumerated().dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard columns.contains(cells.count), let value = make(cells) else {
                let expected = columns.sorted().map(String.init).joined(separator: " or ")
                throw Failure(description: "\(file):\(number + 1): expected \(expected) well-formed columns")
            }
            values.append(value)
        }
        return values
    }
}
