import Dispatch
import WaferModel

/// The fast in-process engine: every participant in one global event order, messages delivered
/// the moment they are sent. Nothing here changes a result: each participant still handles its
/// own events in its own order and sees every message before its arrival time (an arrival is
/// always later than its send), and participants with events at the same time are visited
/// coordinator first, then clusters by id — the canonical order of the trace (``TraceOrder``).
/// Windows exist only for hosts that must synchronise processes; quantum mode, whose timing is
/// defined by its windows, keeps them.
extension WaferSession {
    /// True when this session runs its participants in one global event order.
    var runsSequentially: Bool {
        usesGlobalEventOrder && transport is InProcessTransport && coordinator.config.sync.mode == .exact
    }

    /// Runs every participant in global event order until nothing is pending or `shouldStop`
    /// says so.
    func runSequentially(shouldStop: () -> Bool) throws {
        guard let local = transport as? InProcessTransport else { preconditionFailure("in process only") }
        let wallStart = DispatchTime.now().uptimeNanoseconds
        let clusters = local.clusters
        // Deliver everything held for later windows: every arrival lies ahead.
        for index in toClusters.indices where !toClusters[index].isEmpty {
            clusters[index].receive(toClusters[index])
            toClusters[index].removeAll()
        }

        // The participant to run next: earliest next event, then lowest participant.
        var next = NextEventTree(count: clusters.count + 1)
        func nextTime(_ participant: Int) -> Cycle {
            participant == 0 ? coordinator.nextEventTime : clusters[participant - 1].nextEventTime
        }
        for participant in 0...clusters.count { next.update(participant, to: nextTime(participant)) }

        var trace: [TimedTraceRecord] = []
        func route(_ envelope: Envelope) {
            if let cluster = envelope.destination.clusterIndex {
                clusters[cluster].receive(envelope)
                next.update(cluster + 1, to: clusters[cluster].nextEventTime)
            } else {
                coordinator.receive(envelope)
                next.update(0, to: coordinator.nextEventTime)
            }
        }
        func flushTrace() throws {
            guard !trace.isEmpty else { return }
            try traceSink?.append(window: [trace])
            trace.removeAll(keepingCapacity: true)
        }

        var steps = 0
        while case let top = next.first, top.time != .never {
            guard top.time < Limits.horizon else {
                try flushTrace()
                throw HorizonPassed(time: top.time)
            }
            pace?(top.time)
            let end = top.time + 1
            if top.participant == 0 {
                coordinator.advance(before: end)
                if traceSink != nil { coordinator.moveTrace(into: &trace) }
                coordinator.deliverEnvelopes(route)
                if let deadlock = coordinator.deadlock {
                    try flushTrace()
                    throw deadlock
                }
            } else {
                let cluster = clusters[top.participant - 1]
                cluster.advance(before: end)
                if traceSink != nil { cluster.moveTrace(into: &trace) }
                cluster.deliverEnvelopes(route)
            }
            next.update(top.participant, to: nextTime(top.participant))
            sequentialNow = max(sequentialNow, end)
            steps += 1
            if steps & 4095 == 0 {
                try flushTrace()
                if shouldStop() { break }
            }
        }
        try flushTrace()
        // A later windowed step starts from what the engines know now.
        coordinatorTiming = ParticipantTiming(
            nextEvent: coordinator.nextEventTime, earliestOutput: coordinator.nextEventTime)
        for (index, cluster) in clusters.enumerated() {
            clusterTiming[index] = ParticipantTiming(
                nextEvent: cluster.nextEventTime, earliestOutput: cluster.nextEventTime)
        }
        host.sequentialNanos += DispatchTime.now().uptimeNanoseconds - wallStart
    }
}
