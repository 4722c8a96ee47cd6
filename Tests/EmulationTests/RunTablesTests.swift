import Foundation
import WaferModel
import XCTest

@testable import Emulation

/// The run's CSV tables format their fractions through the C library directly; the text must be
/// what `String(format: "%.4f")` writes, digit for digit, or every table a run writes changes.
final class RunTablesTests: XCTestCase {
    func testFourDecimalsWritesWhatStringFormatWrites() {
        // Exact binary ties (1/32 is 312.5 ten-thousandths), the ends, tiny and negative values,
        // and values next to every rounding boundary.
        var values: [Double] = [
            0, -0.0, 1, 1.0 / 32, 3.0 / 32, 0.00005, 0.99995, 0.99999, 1e-12, -0.5, 0.5, 2.0 / 3.0, 12.34565,
            99_999.99995,
            100_000, 123_456.78905, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
        ]
        for k in 0..<2_000 {
            let boundary = (Double(k) + 0.5) / 10_000
            values += [boundary, boundary.nextUp, boundary.nextDown]
        }
        var rng = SplitMix64(seed: 5)
        for _ in 0..<20_000 {
            let cycles = Cycle.random(in: 0...4_000_000, using: &rng)
            let capacity = Double(Cycle.random(in: 1...4_000_000, using: &rng))
            values.append(min(1, Double(cycles) / capacity))
            // Imbalance peaks and other values beyond 1, up to past the fast path's range.
            values.append(Double(cycles) / Double(Cycle.random(in: 1...1_000, using: &rng)))
        }
        for value in values {
            XCTAssertEqual(UtilisationTimeline.fourDecimals(value), String(format: "%.4f", value), "\(value)")
        }
    }

    /// `requests.csv`: a header, then a row per request in request order — the workflow's name
    /// (`?` for an index the library lacks), the status, both times, the latency (0 when the
    /// finish precedes the injection) and the cluster (-1 when none), in plain decimal.
    func testRequestTableWritesOneRowPerRequestInRequestOrder() throws {
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        func record(
            _ request: UInt64, _ workflow: UInt16, _ injected: Cycle, _ finished: Cycle, _ status: OutcomeStatus,
            _ cluster: Int32
        ) -> CoordinatorEngine.Record {
            CoordinatorEngine.Record(
                outcome: RequestOutcome(
                    request: request, workflow: workflow, injected: injected, finished: finished, status: status,
                    tasksDone: 1, cluster: cluster),
                reported: finished)
        }
        let records = [
            record(.max, 1, 5, 4, .rejected, -1), record(7, 0, 1_000, 3_500, .completed, 12),
            record(0, 999, 0, 0, .completed, 0),
        ]
        let first = library.workflows[0].name
        let second = library.workflows[1].name
        let expected = """
            request,workflow,status,injected_cycle,finished_cycle,latency_cycles,cluster
            0,?,completed,0,0,0,0
            7,\(first),completed,1000,3500,2500,12
            18446744073709551615,\(second),rejected,5,4,0,-1

            """
        XCTAssertEqual(RequestTable.csv(records, library: library), expected)
        XCTAssertEqual(RequestTable.csvBytes(records, library: library), Array(expected.utf8))
    }
}
