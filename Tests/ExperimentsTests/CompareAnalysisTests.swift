import Emulation
import Scheduling
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

/// The swept baseline's best setting depends only on the runs, never on the order they come in
/// (a resumed compare reads its journal in completion order).
final class BestSettingTests: XCTestCase {
    func testTiesGoToTheSweepOrderWhateverTheOrderOfTheRuns() throws {
        let config = try WaferConfigLoader.parse("mesh: {rows: 1, columns: 1}\n", file: "w.yaml")
        let library = WorkflowLibrary([
            try WorkflowLoader.parse("name: w\nblocks:\n  - {name: b, task: [{cycles: 100}]}\n", file: "w.yaml")
        ])
        let session = WaferSession.inProcess(config: config, library: library, scheduler: .standard("fifo"))
        try session.inject(Injection(workflow: "w", count: 3, arrival: .periodic(period: 1_000, jitter: 0)))
        try session.runUntilIdle()
        let base = SummaryBuilder.results(session: session, stats: try session.transport.collectStats(end: 1))
        let size = CompareMatrix.Size(rows: 1, columns: 1)
        let sweep = ["reactive:threshold=1,steal=1", "reactive:threshold=1,steal=2", "reactive:threshold=2,steal=1"]
        func run(_ scheduler: String, replicate: Int, p99: Cycle) -> CompareRun {
            var results = base
            results.overall.latency?.p99Cycles = p99
            return CompareRun(
                workload: "w", size: size, load: 1, scheduler: scheduler, replicate: replicate, results: results)
        }
        // The first two tie on p99 and throughput; the third is better in replicate 1 only, and
        // worse over both (√(700 · 400) = 529 > 500).
        var runs: [CompareRun] = []
        for replicate in 0..<2 {
            runs.append(run(sweep[0], replicate: replicate, p99: 500))
            runs.append(run(sweep[1], replicate: replicate, p99: 500))
            runs.append(run(sweep[2], replicate: replicate, p99: replicate == 0 ? 700 : 400))
        }
        let expected = CompareAnalysis.best(
            of: "reactive", runs, workload: "w", size: size, load: 1, sweep: sweep)
        XCTAssertEqual(expected, sweep[0], "the tie between the first two goes to the first in sweep order")
        var generator = SplitMix64(keys: 7)
        for _ in 0..<20 {
            var shuffled = runs
            shuffled.shuffle(using: &generator)
            XCTAssertEqual(
                CompareAnalysis.best(of: "reactive", shuffled, workload: "w", size: size, load: 1, sweep: sweep),
                expected)
        }
        // √(700 · 300) = 458 < 500: the geometric mean over the replicates decides.
        runs[5] = run(sweep[2], replicate: 1, p99: 300)
        XCTAssertEqual(
            CompareAnalysis.best(of: "reactive", runs.reversed(), workload: "w", size: size, load: 1, sweep: sweep),
            sweep[2])
    }
}

/// The ablation ladder's columns other than the speedups.
final class LadderTests: XCTestCase {
    /// With several replicates, utilisation, contagion and imbalance are means over the workloads
    /// and every replicate, not the first replicate's.
    func testTheLadderAveragesUtilisationContagionAndImbalanceOverTheReplicates() throws {
        let config = try WaferConfigLoader.parse("mesh: {rows: 1, columns: 1}\n", file: "w.yaml")
        let library = WorkflowLibrary([
            try WorkflowLoader.parse("name: w\nblocks:\n  - {name: b, task: [{cycles: 100}]}\n", file: "w.yaml")
        ])
        let session = WaferSession.inProcess(config: config, library: library, scheduler: .standard("fifo"))
        try session.inject(Injection(workflow: "w", count: 3, arrival: .periodic(period: 1_000, jitter: 0)))
        try session.runUntilIdle()
        let base = SummaryBuilder.results(session: session, stats: try session.transport.collectStats(end: 1))
        let size = CompareMatrix.Size(rows: 1, columns: 1)
        let matrix = CompareMatrix(workloads: ["a", "b"], sizes: [size], loads: [1, 4], replicates: 2)
        var runs: [CompareRun] = []
        // Replicate r of workload a: utilisation 0.1 + r/10; of b: 0.5 + r/10 (so the mean over
        // everything is 0.35, replicate 0's alone 0.3); contagion and imbalance likewise.
        for (offset, workload) in [(0.1, "a"), (0.5, "b")] {
            for replicate in 0..<2 {
                var results = base
                let value = offset + Double(replicate) / 10
                results.utilisation = value
                results.contagion.index = 10 * value
                results.imbalance.mean = 2 * value
                runs.append(
                    CompareRun(
                        workload: workload, size: size, load: 1, scheduler: "static", replicate: replicate,
                        results: results))
            }
        }
        let report = CompareReport(matrix: matrix, runs: runs, command: "octopus compare", seeds: [])
        let step = try XCTUnwrap(report.ladder(size: size).first)
        XCTAssertEqual(step.label, "static")
        XCTAssertEqual(step.utilisation, 0.35, accuracy: 1e-12)
        XCTAssertEqual(step.contagion, 3.5, accuracy: 1e-12)
        XCTAssertEqual(step.imbalance, 0.7, accuracy: 1e-12)
        XCTAssertTrue(
            report.markdown().contains(
                "utilisation, contagion index and imbalance are means over the workloads and the replicates"))
    }
}
