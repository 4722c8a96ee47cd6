import WaferModel
import XCTest

@testable import Experiments

/// The statistics of `octopus compare --seeds N`: speedups over replicates with 95% intervals.
final class CompareAnalysisTests: XCTestCase {
    func testStudentTQuantilesMatchTheTables() {
        // Two-sided 95% (the 97.5th percentile), from any table of Student's t.
        XCTAssertEqual(CompareAnalysis.studentT975(degreesOfFreedom: 1), 12.706, accuracy: 0.001)
        XCTAssertEqual(CompareAnalysis.studentT975(degreesOfFreedom: 2), 4.303, accuracy: 0.001)
        XCTAssertEqual(CompareAnalysis.studentT975(degreesOfFreedom: 30), 2.042, accuracy: 0.001)
        XCTAssertEqual(CompareAnalysis.studentT975(degreesOfFreedom: 40), 2.021, accuracy: 0.001)
        XCTAssertEqual(CompareAnalysis.studentT975(degreesOfFreedom: 120), 1.980, accuracy: 0.001)
    }

    func testAnEstimateIsTheGeometricMeanWithATIntervalOnTheLogs() throws {
        // ln 1.1, ln 1.2, ln 1.3: mean 0.1800, s = 0.08355, half-width 4.303 · s/√3 = 0.2076.
        let spread = try XCTUnwrap(CompareAnalysis.estimate([1.1, 1.2, 1.3]))
        XCTAssertEqual(spread.value, 1.1972, accuracy: 0.0005)
        XCTAssertEqual(try XCTUnwrap(spread.low), 0.9728, accuracy: 0.0005)
        XCTAssertEqual(try XCTUnwrap(spread.high), 1.4734, accuracy: 0.0005)
        XCTAssertEqual(spread.replicates, 3)
        XCTAssertEqual(spread.significant, false, "the interval includes 1")

        // ln 1.5, ln 1.6, ln 1.55: mean 0.4379, s = 0.03227, half-width 0.0802.
        let tight = try XCTUnwrap(CompareAnalysis.estimate([1.5, 1.6, 1.55]))
        XCTAssertEqual(tight.significant, true)
        let slower = try XCTUnwrap(CompareAnalysis.estimate([0.7, 0.72, 0.69]))
        XCTAssertEqual(slower.significant, true, "significantly below 1 is significant too")

        let one = try XCTUnwrap(CompareAnalysis.estimate([1.25]))
        XCTAssertEqual(one.value, 1.25, accuracy: 1e-12)
        XCTAssertNil(one.low)
        XCTAssertNil(one.significant, "one replicate has no interval")
        XCTAssertNil(CompareAnalysis.estimate([]))
    }

    func testReportCellsShowTheIntervalAndMarkWhatIsNotSignificant() throws {
        XCTAssertEqual(CompareReport.ratio(CompareAnalysis.estimate([1.25])), "1.25×")
        XCTAssertEqual(CompareReport.ratio(CompareAnalysis.estimate([1.1, 1.2, 1.3])), "1.20× (0.97–1.47) n.s.")
        XCTAssertEqual(CompareReport.ratio(CompareAnalysis.estimate([1.5, 1.6, 1.55])), "1.55× (1.43–1.68)")
        XCTAssertEqual(CompareReport.ratio(nil as CompareAnalysis.Estimate?), "—")
    }
}

/// The wafer each run of a matrix gets.
final class CompareMatrixTests: XCTestCase {
    func testEachSizeGetsTheMatrixAdmissionPolicyAndEachReplicateItsSeed() throws {
        let base = try WaferConfigLoader.parse(
            "name: base-4x4\nseed: 42\nmesh: {rows: 4, columns: 4, die_rows: 2, die_columns: 2}\n", file: "w.yaml")
        let comparable = CompareMatrix()
        let large = comparable.wafer(base, size: CompareMatrix.Size(rows: 8, columns: 8), replicate: 2)
        XCTAssertEqual(large.seed, 44)
        XCTAssertEqual(large.clusterCount, 64)
        XCTAssertFalse(large.queuesReject)
        XCTAssertEqual(large.admissionLimit, 64 * 256, "clusters × queue capacity at the run's own size")
        let small = comparable.wafer(base, size: CompareMatrix.Size(rows: 2, columns: 2))
        XCTAssertEqual(small.seed, 42, "replicate 0: the seeds as written")
        XCTAssertEqual(small.admissionLimit, 4 * 256)
        var queues = CompareMatrix()
        queues.admission = .queues
        XCTAssertTrue(queues.wafer(base, size: CompareMatrix.Size(rows: 2, columns: 2)).queuesReject)
    }
}
