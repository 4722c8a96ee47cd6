import Collections
import Scheduling
import WaferModel

/// Measures how far the planning policy's predictions were from what happened: each prediction
/// is compared, once its horizon has passed, with the work that actually ran in it (weighted
/// absolute percentage error, ``DemandPredictor/error(predicted:actual:)``).
struct PredictionAudit {
    /// Open predictions, oldest first. A deque: they close from the front, and after a quiet
    /// spell (no load reports while the planner kept predicting) thousands close at once — an
    /// array's `removeFirst` moved all the others each time, half of a run's time.
    private var open = Deque<(time: Cycle, prediction: DemandPrediction, actual: [TaskType: Double])>()
    /// The error of every prediction whose horizon has passed, by the time it was made.
    private(set) var errors: [(time: Cycle, error: Double)] = []

    /// The audit at a window's start: the open predictions, and how many errors were recorded
    /// (an append-only log).
    struct Snapshot {
        var open: Deque<(time: Cycle, prediction: DemandPrediction, actual: [TaskType: Double])>
        var errorCount: Int
    }

    func snapshot() -> Snapshot { Snapshot(open: open, errorCount: errors.count) }

    mutating func restore(_ snapshot: Snapshot) {
        open = snapshot.open
        errors.removeLast(errors.count - snapshot.errorCount)
    }

    /// A prediction made at `now`.
    mutating func record(_ prediction: DemandPrediction, at now: Cycle) {
        open.append((now, prediction, [:]))
    }

    /// Runs reported at `now` count for every open prediction whose horizon they may fall in;
    /// predictions whose horizon has passed are closed.
    ///
    /// A report at `now` describes work done up to `lag` cycles earlier (one load-signal period
    /// plus the control latency), so a prediction whose horizon ended before `now - lag` cannot
    /// contain it: such predictions close first, before the runs are credited. While reports
    /// arrive every period none is left open by then; after a quiet spell (no reports while the
    /// planner kept predicting) the first runs reported would otherwise count for every
    /// prediction made during the spell, long after their horizons.
    mutating func observe(_ runs: [TypeRuns], at now: Cycle, lag: Cycle) {
        if now > lag { close(through: now - lag) }
        for run in runs {
            for index in open.indices { open[index].actual[run.taskType, default: 0] += run.cycles }
        }
        close(through: now)
    }

    /// Closes, oldest first, the open predictions whose horizon ended by `time`.
    private mutating func close(through time: Cycle) {
        while let first = open.first, first.time.adding(first.prediction.horizon) <= time {
            open.removeFirst()
            if let error = DemandPredictor.error(predicted: first.prediction.demand, actual: first.actual) {
                errors.append((first.time, error))
            }
        }
    }
}
