import Scheduling
import WaferModel

/// The load imbalance across clusters as it changes: the coefficient of variation of the pending
/// cycles in the coordinator's view, as a step function of virtual time.
struct ImbalanceRecorder {
    /// (time, value) at every change; a change at the same time replaces the previous value.
    private(set) var timeline: [(time: Cycle, value: Double)] = []

    /// The timeline's length and last entry at a window's start (it only grows or rewrites its last entry).
    struct Snapshot {
        var count: Int
        var last: (time: Cycle, value: Double)?
    }

    func snapshot() -> Snapshot { Snapshot(count: timeline.count, last: timeline.last) }

    mutating func restore(_ snapshot: Snapshot) {
        timeline.removeLast(timeline.count - snapshot.count)
        if let last = snapshot.last { timeline[timeline.count - 1] = last }
    }

    mutating func record(_ clusters: [ClusterLoad], at now: Cycle) {
        let loads = clusters.map { Double($0.pendingCycles) }
        let mean = loads.reduce(0, +) / Double(max(loads.count, 1))
        var value = 0.0
        if mean > 0 {
            let variance = loads.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(loads.count)
            value = variance.squareRoot() / mean
        }
        if let last = timeline.last, last.value == value { return }
        if let last = timeline.last, last.time == now {
            timeline[timeline.count - 1].value = value
        } else {
            timeline.append((now, value))
        }
    }
}
