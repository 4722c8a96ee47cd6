import WaferModel

/// Runs the grants of one speculative round for several clusters hosted together (one process,
/// or ``InProcessTransport/groups``) in one global event order, handing the in-window envelopes
/// they send each other over at once — as the one-process engine does — so that those hand-overs
/// need no further round through the coordinator.
///
/// Each cluster runs with its grant's in-window envelopes from everyone else and with the live
/// ones of the clusters run with it (its grant's copies of those, from their earlier runs, are
/// dropped). Its report names them (``ClusterWindowReport/livePeers``), so the coordinator knows
/// what it ran with: the grant's envelopes from outside the group and the group's of this run.
/// *Why this is exact:* every envelope arrives at least one lookahead after it is sent, and the
/// clusters are stepped in the order of their next events, so a live envelope reaches its receiver
/// before the receiver has run past its arrival: each cluster processes the same events in the
/// same order as if its grant had carried the envelope.
public enum ClusterGroupRunner {
    /// Runs `runs` (all granted speculative window `plan`, each on its runner) together; the
    /// reports come in the order of `runs`.
    public static func run(
        _ runs: [(runner: ClusterWindowRunner, run: WindowRun)], window plan: WindowPlan
    ) throws -> [ClusterWindowReport] {
        let members = runs.map(\.run.cluster)
        // Each member's index in `runs`, by cluster id (an array: it is read for every envelope).
        var position = [Int?](repeating: nil, count: (members.max() ?? -1) + 1)
        for (index, cluster) in members.enumerated() { position[cluster] = index }
        func member(_ cluster: Int?) -> Int? {
            guard let cluster, cluster < position.count else { return nil }
            return position[cluster]
        }
        let engines = runs.map(\.runner.engine)
        for (runner, run) in runs {
            var run = run
            // The live envelopes replace the grant's copies from the clusters run together.
            run.inWindow.removeAll { envelope in member(envelope.source.clusterIndex) != nil }
            try runner.prepare(run, window: plan, speculative: true)
            runner.engine.beginSpeculativeSteps()
        }
        var next = NextEventTree(count: engines.count)
        for (index, engine) in engines.enumerated() { next.update(index, to: engine.nextEventTime) }
        var sent = [[Envelope]](repeating: [], count: engines.count)
        var events = [UInt64](repeating: 0, count: engines.count)
        while case let top = next.first, top.time < plan.end {
            let engine = engines[top.participant]
            events[top.participant] += engine.speculativeStep(before: top.time + 1)
            engine.deliverEnvelopes { envelope in
                sent[top.participant].append(envelope)
                guard envelope.arrival < plan.end, let index = member(envelope.destination.clusterIndex) else { return }
                engines[index].receive(envelope)
                next.update(index, to: engines[index].nextEventTime)
            }
            next.update(top.participant, to: engine.nextEventTime)
        }
        return runs.indices.map { index in
            let output = engines[index].finishSpeculativeSteps(
                end: plan.end, envelopes: sent[index], events: events[index])
            return runs[index].runner.report(members[index], output, speculative: true, livePeers: members)
        }
    }
}
