import Foundation
import Scheduling
import WaferModel

/// Receives the trace records of each window in the canonical order of ``TraceOrder``, so the
/// rendered trace is identical however the clusters are hosted and the run is cut into windows.
public protocol TraceSink: AnyObject {
    /// One window's records, one list per participant in participant order (coordinator, then
    /// clusters by id), each in the order its participant made them. The sink orders them with
    /// ``TraceOrder/merge(_:)``; it may do so, and write them, after returning.
    func append(window lists: [[TimedTraceRecord]]) throws
}

/// Runs the wafer window by window: plans each window with the ``WindowSynchronizer``, runs the
/// coordinator engine and (through the transport) every cluster, and routes what they send.
/// The same loop drives the in-process oracle and the multi-process wafer.
public final class WaferSession {
    public let coordinator: CoordinatorEngine
    public let transport: ClusterTransport
    public private(set) var synchronizer: WindowSynchronizer
    public var traceSink: TraceSink?
    /// In process and in exact mode, run in one global event order rather than window by window
    /// (the same results and trace; set false to exercise the windows in one process).
    public var usesGlobalEventOrder = true
    /// Speculative windows (exact mode, windowed hosts): on by default for the multi-process wafer.
    public var speculation = Speculation(enabled: false)

    var clusterTiming: [ParticipantTiming]
    var coordinatorTiming = ParticipantTiming()
    var toClusters: [[Envelope]]
    /// Runs of held view updates merged lately, shared by the clusters that held the same run.
    private var mergedViewMemo = HeldViewMerging.Memo()
    /// What each cluster absorbs as of its last run (``ClusterWindowReport/absorbs``): such
    /// messages for it are held in ``toClusters`` without making it take part in a window (its
    /// state changes only when it runs, so this stays valid until then).
    private var absorbs: [AbsorbedMessages]
    /// Corrections owed by clusters that a speculative window did not run again (``WindowCorrection``),
    /// handed over with each one's next grant (and at the end, when nothing else is pending).
    private var corrections: [Int: WindowCorrection] = [:]
    /// Clusters that owe a correction now (see ``settleCorrections()``).
    var owingCorrections: [Int] { corrections.keys.sorted() }
    /// When false, a speculative window runs every cluster whose in-window inputs changed again
    /// instead of owing corrections: the reference the tests hold corrections to.
    var correctsLateAbsorption = true
    /// Clusters that ran together (in one process) run again together with a due cluster they
    /// took in-window envelopes from (``receiversRunTogether(with:latest:ran:end:)``).
    var coRunsReceivers = true
    /// Virtual time reached by runs in global event order (see ``runUntilIdle(shouldStop:)``).
    var sequentialNow: Cycle = 0
    /// Σ over windows of the clusters taking part (deterministic; windows × clusters at most).
    public private(set) var activeClusterWindows: UInt64 = 0
    /// Host measurements, kept apart from the deterministic results.
    public internal(set) var host = HostMeasurements()

    public init(coordinator: CoordinatorEngine, transport: ClusterTransport) {
        self.coordinator = coordinator
        self.transport = transport
        synchronizer = WindowSynchronizer(config: coordinator.config)
        let count = coordinator.config.clusterCount
        clusterTiming = Array(repeating: ParticipantTiming(), count: count)
        toClusters = Array(repeating: [], count: count)
        absorbs = Array(repeating: [], count: count)
    }

    /// Builds an all-in-one-process session (the oracle).
    public static func inProcess(
        config: WaferConfig, library: WorkflowLibrary, scheduler: Scheduler = .octopus,
        functional: (any FunctionalExecutor)? = nil
    ) -> WaferSession {
        // The participants run one at a time here: one cache of block costs and one of plan
        // indexes serve them all.
        let costs = BlockCosts.shared(config: config, library: library)
        let planIndexes = PlanIndexMemo()
        let clusters = (0..<config.clusterCount).map {
            ClusterEngine(
                id: $0, config: config, library: library, scheduler: scheduler, functional: functional, costs: costs,
                planIndexes: planIndexes)
        }
        let coordinator = CoordinatorEngine(
            config: config, library: library, scheduler: scheduler, functional: functional, planIndexes: planIndexes)
        return WaferSession(coordinator: coordinator, transport: InProcessTransport(clusters: clusters))
    }

    /// Virtual time every participant has reached.
    public var now: Cycle { max(synchronizer.now, sequentialNow) }

    /// Set by the host when the run stopped before finishing (an error such as a flow-control
    /// deadlock, or a signal): the virtual time it stopped at.
    public var stoppedAt: Cycle?

    /// Marks the run stopped early: at its flow-control deadlock's time when that is what
    /// stopped it (the same in every form of the wafer), else at ``now``.
    public func markStopped() {
        stoppedAt = coordinator.deadlock?.time ?? now
    }

    /// The end of the accounted period: the last request's finish (all work lies before it), or
    /// ``now`` when nothing has finished; for a run stopped early, the time it stopped if that is
    /// later (its arrays kept working after the last finish). Statistics and the summary both use it.
    public var accountingEnd: Cycle {
        let finished = coordinator.records.lazy.map(\.outcome.finished).max() ?? now
        return max(finished, stoppedAt ?? 0)
    }

    /// Accepts an injection; its `start` must not lie before ``now``.
    @discardableResult
    public func inject(_ injection: Injection) throws -> ClosedRange<UInt64> {
        try coordinator.inject(injection, earliest: now)
    }

    /// True when nothing is pending anywhere: no events, no messages in flight.
    public var isIdle: Bool { planInputs().allSatisfy { $0.nextEvent == .never && $0.earliestInbound == .never } }

    /// The earliest time anything is pending (an event or a message in flight), or ``Cycle/never``.
    public var nextPendingTime: Cycle {
        planInputs().reduce(Cycle.never) { min($0, $1.nextEvent, $1.earliestInbound) }
    }

    /// Called with the virtual time the session is about to reach, before each step of a run in
    /// one process (``runUntilIdle(shouldStop:)``): pacing waits here until wall time catches up.
    public var pace: ((Cycle) -> Void)?

    private func planInputs() -> [ParticipantTiming] {
        var coordinatorNow = coordinatorTiming
        coordinatorNow.nextEvent = coordinatorNextEvent
        coordinatorNow.earliestOutput = min(coordinatorNow.earliestOutput, coordinatorNextEvent)
        return [coordinatorNow] + clusterTiming
    }

    // The coordinator's own queue can change between windows (injections), so read it afresh.
    private var coordinatorNextEvent: Cycle { coordinator.nextEventTime }

    /// The run reached ``Limits/horizon``: virtual time would pass what a ``Cycle`` can safely
    /// hold, so the run stops here rather than wrap or saturate.
    public struct HorizonPassed: Error, CustomStringConvertible {
        public var time: Cycle
        public var description: String {
            "virtual time reached cycle \(time), past the horizon of \(Limits.horizon) cycles the emulator runs to (are some cycle counts in the configuration far too large?)"
        }
    }

    /// Runs one window (conservative, or speculative when that is on and the conservative window
    /// would be shorter than the speculative length). Returns false when the wafer is idle.
    @discardableResult
    public func step() throws -> Bool {
        guard let proposal = synchronizer.propose(planInputs()) else { return try deliverHeldMessages() }
        guard proposal.start < Limits.horizon else { throw HorizonPassed(time: proposal.start) }
        pace?(proposal.start)
        let wallStart = DispatchTime.now().uptimeNanoseconds
        defer { host.windowNanos += DispatchTime.now().uptimeNanoseconds - wallStart }
        if speculates, speculativeEnd(from: proposal.start) > proposal.end {
            try speculativeStep(
                start: proposal.start, end: speculativeEnd(from: proposal.start), conservativeEnd: proposal.end)
        } else {
            try conservativeStep(synchronizer.commit(proposal))
        }
        // Flow control found clusters that can never go on: stop with the cycle rather than run for ever.
        if let deadlock = coordinator.deadlock { throw deadlock }
        return true
    }

    /// Nothing is pending but messages held for clusters that absorb them: hands them over in
    /// one conservative window (they send nothing), so that every event of the run is processed —
    /// the event counts and every cluster's final state equal those of an execution that never
    /// held them. Returns false when nothing was held.
    private func deliverHeldMessages() throws -> Bool {
        let held = toClusters.indices.filter { !toClusters[$0].isEmpty || corrections[$0] != nil }
        guard !held.isEmpty else { return false }
        var last = synchronizer.now
        for cluster in held {
            // A cluster owed only a correction runs it with this window's grant.
            let arrivals = toClusters[cluster].map(\.arrival)
            last = max(last, arrivals.max() ?? last)
            clusterTiming[cluster].earliestInbound = arrivals.min() ?? synchronizer.now
        }
        try conservativeStep(synchronizer.commit((synchronizer.now, last + 1)))
        return true
    }

    /// Applies the corrections still owed (``WindowCorrection``) in an empty window at ``now``, so
    /// that every cluster's state — and the statistics collected from it — is the exact one even
    /// when the run stops (a `stop` request) before the owing clusters' next grant. The corrected
    /// runs must send and record nothing new (the cluster checks it); nothing else runs, and no
    /// window is counted. Does nothing when nothing is owed.
    public func settleCorrections() throws {
        guard !corrections.isEmpty else { return }
        let owing = corrections.keys.sorted()
        let runs = owing.map { WindowRun(cluster: $0, correction: corrections.removeValue(forKey: $0)) }
        // An empty window: the cluster corrects, then runs nothing (every event before `now` is done).
        let plan = WindowPlan(index: synchronizer.windows + 1, start: now, end: now)
        let reports = try transport.run(plan, speculative: false, runs: runs)
        host.rounds += 1
        for report in reports {
            guard report.envelopes.isEmpty, report.trace.isEmpty, report.events == 0 else {
                throw ClusterWindowRunner.Failure(
                    description:
                        "cluster \(report.cluster) sent, recorded or ran something while only correcting a window")
            }
            clusterTiming[report.cluster].nextEvent = report.nextEventTime
            clusterTiming[report.cluster].earliestOutput = report.earliestOutput
            absorbs[report.cluster] = report.absorbs
        }
    }

    /// The clusters' statistics up to ``accountingEnd``, after settling any corrections still
    /// owed (``settleCorrections()``): what a host collects at the end of a run.
    public func collectStats() throws -> [ClusterStats] {
        try settleCorrections()
        return try transport.collectStats(end: accountingEnd)
    }

    /// Where a speculative window from `start` ends: after the speculative length, pulled back to
    /// the last load-signal period boundary plus the lookahead when one lies inside. The periodic
    /// traffic — load signals, diffusion's neighbour signals, the coordinator's views — is sent at
    /// period boundaries; ending windows just after them (by the smallest latency there is) makes
    /// all of it arrive after the window it was sent in, so it never forces a participant to run
    /// a window again.
    /// The landing point nearest the speculative length is taken, never one that would make the
    /// window less than half that length.
    func speculativeEnd(from start: Cycle) -> Cycle {
        let length = speculation.length
        let end = start.adding(length)
        let period = coordinator.config.cluster.loadSignalPeriod
        let offset = synchronizer.lookahead % period
        guard end != .never, end > offset else { return end }
        let before = (end - offset) / period * period + offset
        let after = before.adding(period)
        if before > start, before - start >= length / 2, end - before <= after - end { return before }
        return after - start <= length * 2 ? after : end
    }

    /// True when exact windows may run speculatively (see ``Speculation``).
    var speculates: Bool { speculation.enabled && coordinator.config.sync.mode == .exact }

    /// Clusters with an event or a delivery before `end`; only they take part in a window ending
    /// there (the others' state cannot change in it).
    private func activeClusters(before end: Cycle) -> [Int] {
        clusterTiming.indices.filter { clusterTiming[$0].nextEvent < end || clusterTiming[$0].earliestInbound < end }
    }

    /// True when `envelope` for `cluster` is held rather than making the cluster take part in a
    /// window: the cluster absorbs it in the state it reported, which lasts until its next event.
    /// In quantum mode too: a held message keeps its arrival time (its sender already deferred it
    /// to a window's end if it landed inside one), so holding changes only which clusters run
    /// which windows — and, as quantum windows start at the earliest pending event, where later
    /// windows fall (quantum results are those of this rule, and it makes them faster).
    private func holds(_ envelope: Envelope, for cluster: Int) -> Bool {
        absorbs[cluster].contains(envelope.message) && envelope.arrival < clusterTiming[cluster].nextEvent
    }

    /// A cluster's first run in the window from `start`: the envelopes waiting for it (see
    /// ``takeInputs(of:start:)``), `inWindow`, and the correction it owes, if any.
    private func firstRun(of cluster: Int, start: Cycle, inWindow: [Envelope] = []) -> WindowRun {
        WindowRun(
            cluster: cluster, inputs: takeInputs(of: cluster, start: start), inWindow: inWindow,
            correction: corrections.removeValue(forKey: cluster))
    }

    /// The envelopes waiting for `cluster`, for a run of the window from `start`; the view
    /// updates held for it while idle are merged (``HeldViewMerging``).
    private func takeInputs(of cluster: Int, start: Cycle) -> [Envelope] {
        defer {
            toClusters[cluster].removeAll()
            clusterTiming[cluster].earliestInbound = .never
        }
        let inputs = HeldViewMerging.merge(
            toClusters[cluster], absorbs: absorbs[cluster], before: min(start, clusterTiming[cluster].nextEvent),
            memo: &mergedViewMemo)
        host.mergedViews += UInt64(toClusters[cluster].count - inputs.count)
        return inputs
    }

    /// A conservative window: nothing sent in it arrives in it. Clusters in `restoring` return to
    /// the snapshot of an abandoned speculative run of the same start first.
    private func conservativeStep(_ plan: WindowPlan, restoring: Set<Int> = []) throws {
        let active = Set(activeClusters(before: plan.end)).union(restoring).sorted()
        let runs = active.map { cluster in
            restoring.contains(cluster)
                ? WindowRun(cluster: cluster, restore: true)
                : firstRun(of: cluster, start: plan.start)
        }
        activeClusterWindows += UInt64(active.count)
        let coordinatorOutput = coordinator.runWindow(end: plan.end)
        let reports = try transport.run(plan, speculative: false, runs: runs)
        host.rounds += 1
        try finish(plan, coordinator: coordinatorOutput, clusters: reports)
    }

    /// A speculative window `[start, start + length)`: every participant saves its state and runs
    /// the whole window; messages that arrive inside it are handed to their receivers, which run it
    /// again from their saved state, until no participant's in-window inputs change. Positive
    /// latencies make the fixed point unique — the execution a conservative run produces — so the
    /// results are exact. The coordinator, local and cheap, runs first and again whenever its
    /// in-window inputs change, so the clusters' runs already see what it sends inside the window.
    /// Too many rounds abandon the speculation for a conservative window.
    private func speculativeStep(start: Cycle, end: Cycle, conservativeEnd: Cycle) throws {
        let plan = WindowPlan(index: synchronizer.windows + 1, start: start, end: end)
        let saved = coordinator.snapshot()
        var coordinatorOutput = coordinator.runSpeculativeWindow(end: end)
        var coordinatorInputs: [Envelope] = []
        var latest: [Int: ClusterWindowReport] = [:]
        // The in-window envelopes each cluster's state is to account for, those it last ran
        // with, and those it is to be corrected to (the two differ only by messages its last run
        // would have absorbed late).
        var delivered: [Int: [Envelope]] = [:]
        var ranWith: [Int: [Envelope]] = [:]
        var owed: [Int: [Envelope]] = [:]
        var avoided: UInt64 = 0
        var ran = Set<Int>()
        var rounds: UInt64 = 0
        var reruns: UInt64 = 0
        var runs: UInt64 = 0
        var events: UInt64 = 0
        var firstRound = true
        while true {
            // In-window envelopes for the clusters, from the latest runs, in participant order.
            var inWindow: [Int: [Envelope]] = [:]
            for envelope in coordinatorOutput.envelopes where envelope.arrival < end {
                if let cluster = envelope.destination.clusterIndex { inWindow[cluster, default: []].append(envelope) }
            }
            for cluster in latest.keys.sorted() {
                for envelope in latest[cluster]!.envelopes where envelope.arrival < end {
                    if let receiver = envelope.destination.clusterIndex {
                        inWindow[receiver, default: []].append(envelope)
                    }
                }
            }
            var due = Set(inWindow.keys).union(delivered.keys).filter { (inWindow[$0] ?? []) != (delivered[$0] ?? []) }
            // A cluster that has not run in this window and absorbs everything sent to it inside
            // it sits the window out: those messages are held for it like any others.
            due = due.filter { cluster in
                ran.contains(cluster) || !(inWindow[cluster] ?? []).allSatisfy { holds($0, for: cluster) }
            }
            // A cluster whose last run would have absorbed every change late (only views or
            // balancing signals it would not have acted on, and nothing read what they record
            // after they arrived) sent and recorded exactly what it would have with the new
            // ones: it is not run again now, only corrected before it next runs.
            var avoidedNow = Set<Int>()
            due = due.filter { cluster in
                guard correctsLateAbsorption, let report = latest[cluster] else { return true }
                let now = inWindow[cluster] ?? []
                let old = ranWith[cluster] ?? []
                guard report.lateAbsorption.covers(changesFrom: old, to: now) else { return true }
                delivered[cluster] = now
                owed[cluster] = now == old ? nil : now
                avoidedNow.insert(cluster)
                return false
            }
            if firstRound { due.formUnion(activeClusters(before: end)) }
            if coRunsReceivers { due.formUnion(receiversRunTogether(with: due, latest: latest, ran: ran, end: end)) }
            // A cluster run with its sender after all was not a re-run avoided.
            avoided += UInt64(avoidedNow.subtracting(due).count)
            firstRound = false
            if !due.isEmpty {
                guard rounds < speculation.maximumRounds else {
                    // Abandon: everyone back to the window's start, and a conservative window instead.
                    coordinator.restore(saved)
                    speculation.abandoned(rounds: rounds)
                    host.abandonedWindows += 1
                    host.rounds += rounds
                    try conservativeStep(synchronizer.commit((start, conservativeEnd)), restoring: ran)
                    return
                }
                rounds += 1
                let grants = due.sorted().map { cluster in
                    ran.contains(cluster)
                        ? WindowRun(cluster: cluster, inWindow: inWindow[cluster] ?? [], restore: true)
                        : firstRun(of: cluster, start: start, inWindow: inWindow[cluster] ?? [])
                }
                reruns += UInt64(due.filter { ran.contains($0) }.count)
                let reports = try transport.run(plan, speculative: true, runs: grants)
                for report in reports {
                    latest[report.cluster] = report
                    events = events.adding(report.events)  // saturating: the count is the cluster's word
                }
                runs += UInt64(due.count)
                for cluster in due {
                    ran.insert(cluster)
                    delivered[cluster] = inWindow[cluster] ?? []
                    ranWith[cluster] = inWindow[cluster] ?? []
                    owed[cluster] = nil
                }
                // Clusters run together took each other's envelopes of this round at once.
                let handedOver = Self.handedOver(reports, end: end)
                for report in reports where !report.livePeers.isEmpty {
                    let took = Self.inputs(
                        of: report.cluster, granted: inWindow[report.cluster] ?? [], livePeers: report.livePeers,
                        handedOver: handedOver)
                    delivered[report.cluster] = took
                    ranWith[report.cluster] = took
                }
            }
            // The coordinator's in-window inputs from the clusters' latest runs.
            var toCoordinator: [Envelope] = []
            for cluster in latest.keys.sorted() {
                toCoordinator += latest[cluster]!.envelopes.lazy.filter {
                    $0.arrival < end && $0.destination.clusterIndex == nil
                }
            }
            if toCoordinator != coordinatorInputs {
                coordinator.restore(saved)
                coordinator.receive(toCoordinator)
                coordinatorOutput = coordinator.runSpeculativeWindow(end: end)
                coordinatorInputs = toCoordinator
                host.coordinatorReruns += 1
            } else if due.isEmpty {
                break
            }
        }
        let committed = synchronizer.commit((start, end))
        activeClusterWindows += UInt64(ran.count)
        host.rounds += rounds
        host.reruns += reruns
        host.avoidedReruns += avoided
        for (cluster, inWindow) in owed {
            corrections[cluster] = WindowCorrection(window: committed.index, end: end, inWindow: inWindow)
        }
        host.speculativeWindows += 1
        speculation.committed(cycles: end - start, rounds: rounds, runs: runs, events: events)
        // In-window envelopes are part of their receivers' final runs; the rest travels on.
        try finish(
            committed, coordinator: coordinatorOutput, clusters: latest.keys.sorted().map { latest[$0]! },
            deliveredBefore: end, ran: ran)
    }

    /// The clusters that ran together with a cluster in `due` (``ClusterWindowReport/livePeers``)
    /// and took in-window envelopes from it: when it runs again they run with it, in the same
    /// process, rather than one round later (a round costs more than a run there).
    private func receiversRunTogether(
        with due: Set<Int>, latest: [Int: ClusterWindowReport], ran: Set<Int>, end: Cycle
    ) -> Set<Int> {
        var receivers = Set<Int>()
        for cluster in due {
            guard let report = latest[cluster], !report.livePeers.isEmpty else { continue }
            let peers = Set(report.livePeers)
            for envelope in report.envelopes where envelope.arrival < end {
                if let receiver = envelope.destination.clusterIndex, peers.contains(receiver), ran.contains(receiver) {
                    receivers.insert(receiver)
                }
            }
        }
        return receivers
    }

    /// The in-window envelopes of a round's `reports` that clusters run together handed to each
    /// other at once (to a peer named in the sender's `livePeers`): by receiver, then by sender.
    static func handedOver(_ reports: [ClusterWindowReport], end: Cycle) -> [Int: [Int: [Envelope]]] {
        var handed: [Int: [Int: [Envelope]]] = [:]
        for report in reports where !report.livePeers.isEmpty {
            let peers = Set(report.livePeers)
            for envelope in report.envelopes where envelope.arrival < end {
                guard let receiver = envelope.destination.clusterIndex, peers.contains(receiver) else { continue }
                handed[receiver, default: [:]][report.cluster, default: []].append(envelope)
            }
        }
        return handed
    }

    /// The in-window envelopes `cluster` ran with when it ran together with `livePeers`
    /// (``ClusterGroupRunner``): its grant's from outside them, and theirs of this round
    /// (`handedOver`, from ``handedOver(_:end:)``), listed as in-window inputs always are — the
    /// coordinator's first, then by sending cluster — so that they equal the next round's inputs
    /// exactly when nothing changed.
    static func inputs(
        of cluster: Int, granted: [Envelope], livePeers: [Int], handedOver: [Int: [Int: [Envelope]]]
    ) -> [Envelope] {
        let peers = Set(livePeers)
        var fromCoordinator: [Envelope] = []
        var bySource: [Int: [Envelope]] = [:]
        for envelope in granted {
            guard let source = envelope.source.clusterIndex else {
                fromCoordinator.append(envelope)
                continue
            }
            if !peers.contains(source) { bySource[source, default: []].append(envelope) }
        }
        for (peer, envelopes) in handedOver[cluster] ?? [:] where peers.contains(peer) { bySource[peer] = envelopes }
        return fromCoordinator + bySource.keys.sorted().flatMap { bySource[$0]! }
    }

    /// Routes what a window's final runs sent (envelopes arriving at or after `deliveredBefore`;
    /// earlier ones were already delivered inside a speculative window — except to clusters not
    /// in `ran`, which sat the window out and have them held), takes in their timing, and appends
    /// their trace records.
    private func finish(
        _ plan: WindowPlan, coordinator coordinatorOutput: WindowOutput, clusters reports: [ClusterWindowReport],
        deliveredBefore: Cycle = 0, ran: Set<Int>? = nil
    ) throws {
        var coordinatorInbound = Cycle.never
        // The clusters' new states first: whether a message for one is held depends on them.
        for report in reports {
            clusterTiming[report.cluster].nextEvent = report.nextEventTime
            clusterTiming[report.cluster].earliestOutput = report.earliestOutput
            absorbs[report.cluster] = report.absorbs
        }
        func route(_ envelopes: [Envelope]) {
            for envelope in envelopes {
                if envelope.arrival < deliveredBefore {
                    // Delivered inside the window, unless its receiver sat the window out.
                    guard let cluster = envelope.destination.clusterIndex, let ran, !ran.contains(cluster) else {
                        continue
                    }
                }
                if let cluster = envelope.destination.clusterIndex {
                    toClusters[cluster].append(envelope)
                    if holds(envelope, for: cluster) {
                        // Held: handed over with the cluster's next grant, or at the end.
                        host.heldMessages += 1
                        continue
                    }
                    clusterTiming[cluster].earliestInbound = min(
                        clusterTiming[cluster].earliestInbound, envelope.arrival)
                } else {
                    coordinator.receive(envelope)
                    coordinatorInbound = min(coordinatorInbound, envelope.arrival)
                }
            }
        }
        route(coordinatorOutput.envelopes)
        var maxCompute: UInt64 = 0
        for report in reports {
            route(report.envelopes)
            maxCompute = max(maxCompute, report.computeNanos)
        }
        coordinatorTiming = ParticipantTiming(
            nextEvent: coordinatorOutput.nextEventTime, earliestOutput: coordinatorOutput.earliestOutput,
            earliestInbound: coordinatorInbound)
        if let sink = traceSink {
            try sink.append(window: [coordinatorOutput.trace] + reports.map(\.trace))
        }
        host.clusterComputeNanos = host.clusterComputeNanos.adding(maxCompute)  // saturating, as above
    }

    /// Runs until the wafer is idle, or `shouldStop` says so (it is asked every few thousand
    /// events). In one process and exact mode the participants run in one global event order,
    /// without windows (``runSequentially(shouldStop:)``: the same results and trace, faster);
    /// otherwise window by window.
    public func runUntilIdle(shouldStop: () -> Bool = { false }) throws {
        if runsSequentially {
            try runSequentially(shouldStop: shouldStop)
        } else {
            while !shouldStop(), try step() {}
        }
    }
}

/// Wall-clock measurements of a session (they vary from run to run by nature).
public struct HostMeasurements: Sendable {
    /// Σ wall time of window rounds.
    public var windowNanos: UInt64 = 0
    /// Σ over windows of the slowest cluster's compute time (0 in process: there it is not split out).
    public var clusterComputeNanos: UInt64 = 0
    /// Wall time spent running in global event order (in process, exact mode).
    public var sequentialNanos: UInt64 = 0
    /// Rounds (each a grant and a report per cluster taking part), windows run speculatively,
    /// cluster re-runs from a snapshot, and speculative windows abandoned for conservative ones.
    public var rounds: UInt64 = 0
    public var speculativeWindows: UInt64 = 0
    public var reruns: UInt64 = 0
    public var abandonedWindows: UInt64 = 0
    /// Runs of the coordinator repeated from its snapshot (local: no round).
    public var coordinatorReruns: UInt64 = 0
    /// Messages held for clusters that absorb them (``ClusterEngine/absorbs``) instead of making
    /// those clusters take part in a window.
    public var heldMessages: UInt64 = 0
    /// Held view updates merged into a later one before being handed over (``HeldViewMerging``).
    public var mergedViews: UInt64 = 0
    /// Re-runs a speculative window did without: only views or balancing signals the cluster
    /// would have absorbed late had changed (``LateAbsorption``); its state was corrected later.
    public var avoidedReruns: UInt64 = 0
}
