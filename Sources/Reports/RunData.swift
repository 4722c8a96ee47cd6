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
    }

    /// The run's name in the report (its directory's name).
    public var name: String
    public var directory: String
    public var summary: RunSummary
    public var wafer: WaferConfig
    public var requests: [Request]
    public var timeline: [TimelineBin]

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
        requests = try Self.rows(path("requests.csv"), data("requests.csv"), columns: 7) { cells in
            guard let injected = Cycle(cells[3]), let finished = Cycle(cells[4]) else { return nil }
            return Request(
                workflow: cells[1], completed: cells[2] == "completed", injected: injected, finished: finished)
        }
        timeline = try Self.rows(path("timeline.csv"), data("timeline.csv"), columns: 5) { cells in
            guard let cluster = Int(cells[0]), let start = Cycle(cells[1]), let end = Cycle(cells[2]),
                let busy = Double(cells[3]), let reconfiguring = Double(cells[4])
            else { return nil }
            return TimelineBin(cluster: cluster, start: start, end: end, busy: busy, reconfiguring: reconfiguring)
        }
    }

    /// Parses a CSV with a header row; `make` turns each row's cells into a value (nil: malformed).
    static func rows<T>(_ file: String, _ data: Data, columns: Int, make: ([String]) -> T?) throws -> [T] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw Failure(description: "\(file): not UTF-8 text")
        }
        var values: [T] = []
        for (number, line) in text.split(separator: "\n").enumerated().dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == columns, let value = make(cells) else {
                throw Failure(description: "\(file):\(number + 1): expected \(columns) well-formed columns")
            }
            values.append(value)
        }
        return values
    }
}
