import Foundation
import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// Proof that refactoring changes no result: the `results` section of the summary and every byte
/// of the trace are hashed for every scheduler on small versions of the workloads, and compared
/// with digests recorded before the refactoring (`golden-digests.txt` beside this file).
///
/// When a change is *meant* to move results (and its commit says why), re-record with
/// `OCTOPUS_RECORD_DIGESTS=1 swift test --filter GoldenDigestTests` and commit the new file.
final class GoldenDigestTests: XCTestCase {
    /// One run of the matrix.
    struct Case {
        var wafer: String
        var workload: String
        var scheduler: String

        var name: String { "\(wafer)/\(workload)/\(scheduler)" }
    }

    /// Every scheduler on the small workload, the suite in miniature (loops, fan-outs, joins) on
    /// the 2×2 and 4×4 wafers, and quantum synchronisation.
    static var cases: [Case] {
        var cases: [Case] = []
        for scheduler in SchedulerRegistry.standard.names {
            cases.append(Case(wafer: "small-2x2", workload: "small", scheduler: scheduler))
            cases.append(Case(wafer: "small-2x2", workload: "suite-small", scheduler: scheduler))
            cases.append(Case(wafer: "default", workload: "suite-small", scheduler: scheduler))
        }
        cases.append(Case(wafer: "small-2x2-quantum", workload: "small", scheduler: "octopus"))
        cases.append(Case(wafer: "small-2x2", workload: "small", scheduler: "reactive:threshold=20000,steal=3"))
        return cases
    }

    static let digestFile = repositoryRoot + "/Tests/EmulationTests/golden-digests.txt"

    /// FNV-1a, 64 bits: enough to notice any change of a byte.
    static func digest(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// `results` and trace digests of one case.
    static func run(_ c: Case, directory: String) throws -> (results: String, trace: String) {
        let tracePath = directory + "/\(c.name.replacingOccurrences(of: "/", with: "_")).json"
        let (_, results) = try runInProcess(
            wafer: c.wafer, workload: c.workload, scheduler: try SchedulerRegistry.standard.scheduler(c.scheduler),
            tracePath: tracePath)
        let summary = try SummaryRenderer.json(RunSummary(results: results, host: nil))
        let trace = try Data(contentsOf: URL(fileURLWithPath: tracePath))
        try? FileManager.default.removeItem(atPath: tracePath)
        return (digest(summary), digest(trace))
    }

    func testResultsAndTracesEqualTheRecordedDigests() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-golden-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        var lines: [String] = []
        for c in Self.cases {
            let (results, trace) = try Self.run(c, directory: directory)
            lines.append("\(c.name) \(results) \(trace)")
        }
        let actual = lines.joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["OCTOPUS_RECORD_DIGESTS"] == "1" {
            try actual.write(toFile: Self.digestFile, atomically: true, encoding: .utf8)
            return
        }
        let recorded = try String(contentsOfFile: Self.digestFile, encoding: .utf8)
        let expected = Dictionary(
            uniqueKeysWithValues: recorded.split(separator: "\n").map { line -> (String, String) in
                let fields = line.split(separator: " ", maxSplits: 1)
                return (String(fields[0]), String(fields[1]))
            })
        for line in lines {
            let fields = line.split(separator: " ", maxSplits: 1)
            XCTAssertEqual(
                String(fields[1]), expected[String(fields[0])],
                "\(fields[0]): results/trace digests differ from golden-digests.txt (or the case is new)")
        }
        XCTAssertEqual(lines.count, expected.count, "every recorded case still runs")
    }
}
