import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// The audit that measures the planner's prediction error: which reported runs count for which
/// prediction.
final class PredictionAuditTests: XCTestCase {
    private let type = TaskType(workflow: 0, block: 0)

    private func prediction(_ cycles: Double, horizon: Cycle = 100) -> DemandPrediction {
        DemandPrediction(demand: [type: cycles], horizon: horizon)
    }

    private func runs(_ cycles: Double) -> [TypeRuns] {
        [TypeRuns(taskType: type, runs: 1, cycles: cycles, squares: cycles * cycles)]
    }

    /// In steady state each report's runs count for every prediction still open, and a prediction
    /// closes once its horizon has passed.
    func testRunsCountForOpenPredictionsUntilTheirHorizonPasses() {
        var audit = PredictionAudit()
        audit.record(prediction(100), at: 0)
        audit.observe(runs(30), at: 50, lag: 60)
        audit.record(prediction(100), at: 60)
        audit.observe(runs(50), at: 100, lag: 60)
        // The first prediction saw 30 + 50 = 80 of its predicted 100: |100 - 80| / 80.
        XCTAssertEqual(audit.errors.map(\.time), [0])
        XCTAssertEqual(audit.errors[0].error, 20.0 / 80.0, accuracy: 1e-12)
        audit.observe(runs(100), at: 160, lag: 60)
        // The second saw 50 + 100 = 150 of its predicted 100, the report at 160 included: its
        // horizon ended at 160, within the report's lag.
        XCTAssertEqual(audit.errors.map(\.time), [0, 60])
        XCTAssertEqual(audit.errors[1].error, 50.0 / 150.0, accuracy: 1e-12)
    }

    /// After a quiet spell (predictions made, no reports), the runs of the next report do not
    /// count for predictions whose horizon ended longer than the lag before it: those close with
    /// nothing seen (no error: nothing to compare with), and only recent predictions get the runs.
    func testAReportAfterAQuietSpellCountsOnlyForRecentPredictions() {
        var audit = PredictionAudit()
        for time in stride(from: Cycle(0), through: 10_000, by: 100) { audit.record(prediction(40), at: time) }
        audit.observe(runs(80), at: 10_050, lag: 60)
        // Horizons ending by 9,990 closed empty; 9,900 ends at 10,000 (within the lag) and saw the
        // runs: |40 - 80| / 80.
        XCTAssertEqual(audit.errors.map(\.time), [9_900])
        XCTAssertEqual(audit.errors[0].error, 0.5, accuracy: 1e-12)
        audit.observe(runs(40), at: 10_100, lag: 60)
        // 10,000 saw 80 + 40 = 120 of its predicted 40.
        XCTAssertEqual(audit.errors.map(\.time), [9_900, 10_000])
        XCTAssertEqual(audit.errors[1].error, 80.0 / 120.0, accuracy: 1e-12)
    }

    /// A horizon of "never" (or one reaching past the end of time) neither traps nor closes.
    func testAnEndlessHorizonStaysOpen() {
        var audit = PredictionAudit()
        audit.record(prediction(10, horizon: .never), at: 5)
        audit.observe(runs(10), at: .never - 1, lag: .never)
        audit.observe(runs(10), at: .never - 1, lag: 10)
        XCTAssertTrue(audit.errors.isEmpty)
    }

    /// Restoring a snapshot undoes what was observed after it.
    func testRestoreUndoesLaterObservations() {
        var audit = PredictionAudit()
        audit.record(prediction(100), at: 0)
        let snapshot = audit.snapshot()
        audit.observe(runs(100), at: 130, lag: 60)
        XCTAssertEqual(audit.errors.count, 1)
        audit.restore(snapshot)
        XCTAssertTrue(audit.errors.isEmpty)
        audit.observe(runs(50), at: 100, lag: 60)
        XCTAssertEqual(audit.errors.map(\.error), [1.0])
    }
}
