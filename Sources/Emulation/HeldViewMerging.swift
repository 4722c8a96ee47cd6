import Scheduling
import WaferModel

/// Merges the coordinator's view updates held for a cluster before they are handed over.
///
/// A cluster whose balancing policy does not react to views absorbs those arriving before its
/// next event (``ClusterEngine/absorbs``): each only replaces the cluster's copy of the view. A
/// host holds them until the cluster runs anyway — on a large wafer, an idle cluster (or one
/// waiting for a long block) collects one update per load-signal period, each naming the
/// clusters that changed. Handing over one update per
/// run of consecutive views instead (``LoadViewUpdate/merged(_:)``) leaves the cluster exactly
/// where the updates one by one would: nothing else happens at the cluster between them, the
/// merged update arrives at the last one's time and rank, and it counts as the events it
/// replaces. Only the grant gets smaller.
enum HeldViewMerging {
    /// `inputs` (envelopes for one cluster, in any order) with each run of views that the cluster
    /// processes back to back merged into one. Views are merged only while the cluster absorbs
    /// them (`absorbs`, as of its last run: it has not run since) and only before `start` (the
    /// window about to run, or the cluster's next event if earlier: in-window messages and its own
    /// events come from there) and the first input it does not absorb (after that it may be busy). Absorbed balancing signals
    /// between views separate runs: a signal must see the view as it was at its arrival.
    static func merge(_ inputs: [Envelope], absorbs: AbsorbedMessages, before start: Cycle) -> [Envelope] {
        var memo = Memo()
        return merge(inputs, absorbs: absorbs, before: start, memo: &memo)
    }

    /// The merged updates of the last few runs of views. Every update goes to every cluster, so
    /// clusters idle since the same time hold the same run, and on a large wafer dozens of them
    /// are handed it in one round: merged once, and handed over as one value, which a GRANTS
    /// message then carries once (merging was a seventh of the coordinator's work on a 16×16
    /// wafer). Runs are compared by value (broadcast copies share storage, so that is quick), and
    /// merging is a function of the run, so a remembered merge is the merge.
    struct Memo {
        private var entries: [(updates: [LoadViewUpdate], merged: LoadViewUpdate)] = []
        private static let capacity = 16

        init() {}

        mutating func merged(_ updates: [LoadViewUpdate]) -> LoadViewUpdate {
            if let entry = entries.first(where: { $0.updates == updates }) { return entry.merged }
            let merged = LoadViewUpdate.merged(updates)
            if entries.count == Self.capacity { entries.removeFirst() }
            entries.append((updates, merged))
            return merged
        }
    }

    /// ``merge(_:absorbs:before:)``, remembering merged runs in `memo`.
    static func merge(
        _ inputs: [Envelope], absorbs: AbsorbedMessages, before start: Cycle, memo: inout Memo
    ) -> [Envelope] {
        guard absorbs.contains(.views), inputs.count > 1 else { return inputs }
        var stop = start
        for envelope in inputs where !absorbs.contains(envelope.message) {
            stop = min(stop, envelope.arrival)
        }
        // Times of the absorbed signals that can separate views.
        var signals: [Cycle] = []
        var views: [Int] = []
        for (index, envelope) in inputs.enumerated() where envelope.arrival < stop {
            if case .view = envelope.message {
                views.append(index)
            } else {
                signals.append(envelope.arrival)
            }
        }
        guard views.count > 1 else { return inputs }
        // The cluster handles a view before a signal of the same time (views rank first), so a
        // view belongs to the run after every signal that arrives strictly before it.
        var runs: [Int: [Int]] = [:]
        for index in views {
            let arrival = inputs[index].arrival
            runs[signals.reduce(0) { $1 < arrival ? $0 + 1 : $0 }, default: []].append(index)
        }
        guard runs.values.contains(where: { $0.count > 1 }) else { return inputs }
        var dropped = Set<Int>()
        var replaced: [Int: Envelope] = [:]
        for run in runs.values where run.count > 1 {
            // In the order the cluster would handle them: by arrival, then the delivery tie-break.
            let ordered = run.sorted {
                (inputs[$0].arrival, inputs[$0].deliveryTieBreak) < (inputs[$1].arrival, inputs[$1].deliveryTieBreak)
            }
            let updates = ordered.map { index -> LoadViewUpdate in
                guard case .view(let update) = inputs[index].message else { preconditionFailure("not a view") }
                return update
            }
            var last = inputs[ordered[ordered.count - 1]]
            last.message = .view(memo.merged(updates))
            replaced[ordered[ordered.count - 1]] = last
            dropped.formUnion(ordered.dropLast())
        }
        return inputs.indices.compactMap { index in
            dropped.contains(index) ? nil : replaced[index] ?? inputs[index]
        }
    }
}
