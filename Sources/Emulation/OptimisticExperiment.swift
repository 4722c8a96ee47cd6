import WaferModel

/// What running a wafer's participants optimistically cost, counted (``WaferSession/runOptimistically(stepsPerTurn:optimism:)``).
public struct OptimisticCounts: Equatable, Sendable {
    /// Rounds: global virtual time computed, and every participant offered a turn.
    public var rounds: UInt64 = 0
    /// Turns taken (a participant running up to `stepsPerTurn` timestamps ahead of the others).
    public var turns: UInt64 = 0
    /// Events executed, rolled-back ones included, and the events of the committed execution.
    public var eventsExecuted: UInt64 = 0
    public var eventsCommitted: UInt64 = 0
    /// Returns to a checkpoint because a message arrived in a participant's past (a straggler).
    public var stragglerRollbacks: UInt64 = 0
    /// Returns to a checkpoint because a message a participant had processed was cancelled.
    public var cancellationRollbacks: UInt64 = 0
    /// Cancelled messages the receiver had not processed yet, annihilated in its queue.
    public var annihilations: UInt64 = 0
    /// Messages between participants: sent (each a real message), and re-sent identical after a
    /// rollback and therefore not sent again (lazy cancellation).
    public var messagesSent: UInt64 = 0
    public var messagesKept: UInt64 = 0
    /// Anti-messages: messages a rolled-back participant did not send again.
    public var antiMessages: UInt64 = 0
    /// Checkpoints taken (one per turn that ran anything).
    public var checkpoints: UInt64 = 0

    public init() {}
}

/// An experiment, not a host: the participants of an in-process session run optimistically, as
/// in Time Warp (Jefferson 1985) — each runs ahead on what it has received, messages are
/// delivered the moment they are sent, a message arriving in its receiver's past rolls the
/// receiver back to a checkpoint, and a rolled-back participant cancels what it does not send
/// again (lazy cancellation). Participants take turns, each running up to `stepsPerTurn`
/// timestamps and never beyond the global virtual time plus `optimism` cycles: a crude model of
/// processes time-sharing cores. It counts what an optimistic multi-process design would pay —
/// rollbacks, re-executed events, anti-messages — and ends in the committed execution, whose
/// results equal the oracle's (the tests hold it to that); trace records are dropped.
extension WaferSession {
    /// Runs every participant optimistically until nothing is pending; in process only.
    public func runOptimistically(stepsPerTurn: Int, optimism: Cycle = .never) -> OptimisticCounts {
        guard let local = transport as? InProcessTransport else { preconditionFailure("in process only") }
        precondition(stepsPerTurn > 0, "a turn runs at least one timestamp")
        for index in toClusters.indices where !toClusters[index].isEmpty {
            local.clusters[index].receive(toClusters[index])
            toClusters[index].removeAll()
        }
        let processes =
            [OptimisticProcess(coordinator: coordinator)] + local.clusters.map { OptimisticProcess(cluster: $0) }
        var counts = OptimisticCounts()
        let committedBefore = processes.reduce(0) { $0 + $1.eventCount }

        func index(of participant: ParticipantID) -> Int { participant.clusterIndex.map { $0 + 1 } ?? 0 }

        /// Returns `p` to its latest checkpoint at or before `time` (without the messages cancelled
        /// since) and makes its later outputs suspects.
        func rollBack(_ p: Int, to time: Cycle) {
            let process = processes[p]
            guard let target = process.checkpoints.lastIndex(where: { $0.time <= time })
            else { preconditionFailure("participant \(p) has no checkpoint before \(time)") }
            let checkpoint = process.checkpoints[target]
            process.checkpoints.removeSubrange((target + 1)...)
            process.restore(checkpoint.state)
            process.processedBefore = checkpoint.time
            // Messages delivered before the checkpoint and cancelled since wait in it: taken back.
            for cancelled in process.cancelledInputs
            where cancelled < checkpoint.inputCount && process.inputs[cancelled].cancelledAt > checkpoint.cancellations
            {
                let pending = process.cancelDelivery(of: process.inputs[cancelled].envelope)
                precondition(pending, "a message cancelled after a checkpoint is not pending in it")
            }
            // Its inputs since the checkpoint are in the log: delivered again, the cancelled left out.
            for later in checkpoint.inputCount..<process.inputs.count where !process.inputs[later].cancelled {
                process.receive(process.inputs[later].envelope)
            }
            // What it sent since becomes suspect: kept if sent again identical, else cancelled.
            process.suspects.append(contentsOf: process.outputs[checkpoint.outputCount...])
            process.suspects.sort {
                ($0.envelope.sendTime, $0.envelope.sequence) < ($1.envelope.sendTime, $1.envelope.sequence)
            }
            process.outputs.removeSubrange(checkpoint.outputCount...)
        }

        /// Delivers `envelope` to its receiver, rolling the receiver back if it arrives in its past.
        func deliver(_ envelope: Envelope) -> (receiver: Int, input: Int) {
            let r = index(of: envelope.destination)
            let receiver = processes[r]
            receiver.inputs.append(OptimisticProcess.Input(envelope: envelope))
            let input = receiver.inputs.count - 1
            if envelope.arrival < receiver.processedBefore {
                counts.stragglerRollbacks += 1
                rollBack(r, to: envelope.arrival)  // delivers it with the others
            } else {
                receiver.receive(envelope)
            }
            return (r, input)
        }

        /// Cancels `output`: annihilated in its receiver's queue if not processed yet, else the
        /// receiver returns to a checkpoint before its arrival and forgets it.
        func cancel(_ output: OptimisticProcess.Output) {
            counts.antiMessages += 1
            let receiver = processes[output.receiver]
            receiver.cancellations += 1
            receiver.inputs[output.input].cancelled = true
            receiver.inputs[output.input].cancelledAt = receiver.cancellations
            receiver.cancelledInputs.append(output.input)
            if output.envelope.arrival >= receiver.processedBefore {
                counts.annihilations += 1
                let pending = receiver.cancelDelivery(of: output.envelope)
                precondition(pending, "a cancelled message neither processed nor pending")
                return
            }
            counts.cancellationRollbacks += 1
            // A checkpoint that holds it holds it pending: the return takes it back.
            rollBack(output.receiver, to: output.envelope.arrival)
        }

        /// Sends what `p` produced: identical suspects are kept, the rest delivered.
        func send(from p: Int) {
            let process = processes[p]
            for envelope in process.takeEnvelopes() {
                // A participant numbers what it sends (a restored checkpoint restores the count), so
                // a suspect can only be sent again under its own number: those numbered before
                // this one never will be, and one of this number that differs is replaced.
                while let stale = process.suspects.firstIndex(where: {
                    $0.envelope.sequence < envelope.sequence
                        || ($0.envelope.sequence == envelope.sequence && $0.envelope != envelope)
                }) {
                    cancel(process.suspects.remove(at: stale))
                }
                if let kept = process.suspects.firstIndex(where: { $0.envelope == envelope }) {
                    process.outputs.append(process.suspects.remove(at: kept))
                    counts.messagesKept += 1
                } else {
                    let (receiver, input) = deliver(envelope)
                    process.outputs.append(.init(envelope: envelope, receiver: receiver, input: input))
                    counts.messagesSent += 1
                }
            }
            cancelPassedSuspects(of: p)
        }

        /// Cancels the suspects of `p` sent before its next event: it will not send them again
        /// (an earlier event would come with a straggler, which rolls it back anyway).
        func cancelPassedSuspects(of p: Int) {
            let process = processes[p]
            while let first = process.suspects.first, first.envelope.sendTime < process.nextEventTime {
                process.suspects.removeFirst()
                cancel(first)
            }
        }

        for process in processes {
            process.checkpoints = [
                .init(time: 0, state: process.snapshot(), inputCount: 0, outputCount: 0, cancellations: 0)
            ]
        }
        while true {
            for p in processes.indices { cancelPassedSuspects(of: p) }
            // Global virtual time: no participant will process or send anything before it (a
            // suspect may still be cancelled, so it counts too).
            let gvt = processes.reduce(Cycle.never) {
                min($0, $1.nextEventTime, $1.suspects.first?.envelope.sendTime ?? .never)
            }
            guard gvt != .never else { break }
            counts.rounds += 1
            let bound = optimism == .never ? Cycle.never : gvt &+ optimism
            // Fossil collection: nothing is ever rolled back to before GVT (every message still to
            // be sent or cancelled arrives after it), so each participant keeps only checkpoints
            // from the newest one at or before GVT.
            for process in processes {
                if let keep = process.checkpoints.lastIndex(where: { $0.time <= gvt }), keep > 0 {
                    process.checkpoints.removeFirst(keep)
                }
                // A cancelled message that would have run before the oldest checkpoint is in none.
                let oldest = process.checkpoints[0].time
                process.cancelledInputs.removeAll { process.inputs[$0].envelope.arrival < oldest }
            }
            for p in processes.indices {
                let process = processes[p]
                guard process.nextEventTime < bound else { continue }
                counts.turns += 1
                process.dropTrace()
                // Everything sent was taken after every step, so a checkpoint may be taken here.
                if process.checkpoints.last!.time < process.processedBefore
                    || process.checkpoints.last!.inputCount < process.inputs.count
                    || process.checkpoints.last!.cancellations < process.cancellations
                {
                    process.checkpoints.append(
                        .init(
                            time: process.processedBefore, state: process.snapshot(), inputCount: process.inputs.count,
                            outputCount: process.outputs.count, cancellations: process.cancellations))
                    counts.checkpoints += 1
                }
                var steps = 0
                while steps < stepsPerTurn, case let time = process.nextEventTime, time < bound {
                    let before = process.eventCount
                    process.advance(before: time + 1)
                    process.processedBefore = time + 1
                    counts.eventsExecuted += process.eventCount - before
                    process.dropTrace()
                    send(from: p)
                    steps += 1
                }
            }
        }
        let end = processes.reduce(0) { max($0, $1.processedBefore) }
        precondition(processes.allSatisfy { $0.suspects.isEmpty }, "suspects left at the end")
        counts.eventsCommitted = processes.reduce(0) { $0 + $1.eventCount } - committedBefore
        sequentialNow = max(sequentialNow, end)
        return counts
    }
}

/// One participant of the optimistic experiment: its engine, checkpoints and message logs.
final class OptimisticProcess {
    struct Input {
        var envelope: Envelope
        var cancelled = false
        /// The participant's count of cancellations when this one was cancelled.
        var cancelledAt = 0
    }
    struct Output {
        var envelope: Envelope
        var receiver: Int
        var input: Int
    }
    enum State {
        case coordinator(CoordinatorEngine.Snapshot)
        case cluster(ClusterEngine.Snapshot)
    }
    struct Checkpoint {
        var time: Cycle
        var state: State
        var inputCount: Int
        var outputCount: Int
        /// The participant's count of cancellations when it was taken.
        var cancellations: Int
    }

    let coordinator: CoordinatorEngine?
    let cluster: ClusterEngine?
    /// Every event before this time has been processed, none at or after it.
    var processedBefore: Cycle = 0
    var checkpoints: [Checkpoint] = []
    var inputs: [Input] = []
    /// Indices of the cancelled inputs a checkpoint may still hold, and how many were cancelled.
    var cancelledInputs: [Int] = []
    var cancellations = 0
    var outputs: [Output] = []
    /// Outputs sent before a rollback, not yet sent again.
    var suspects: [Output] = []

    init(coordinator: CoordinatorEngine) {
        self.coordinator = coordinator
        cluster = nil
    }

    init(cluster: ClusterEngine) {
        coordinator = nil
        self.cluster = cluster
    }

    var nextEventTime: Cycle { coordinator?.nextEventTime ?? cluster!.nextEventTime }
    var eventCount: UInt64 { coordinator?.eventCount ?? cluster!.core.eventCount }

    func advance(before end: Cycle) {
        if let coordinator { coordinator.advance(before: end) } else { cluster!.advance(before: end) }
    }

    func receive(_ envelope: Envelope) {
        if let coordinator { coordinator.receive(envelope) } else { cluster!.receive(envelope) }
    }

    func cancelDelivery(of envelope: Envelope) -> Bool {
        coordinator?.cancelDelivery(of: envelope) ?? cluster!.cancelDelivery(of: envelope)
    }

    func takeEnvelopes() -> [Envelope] { coordinator?.takeEnvelopes() ?? cluster!.takeEnvelopes() }

    func dropTrace() {
        if let coordinator { _ = coordinator.takeTrace() } else { _ = cluster!.takeTrace() }
    }

    func snapshot() -> State {
        if let coordinator { return .coordinator(coordinator.snapshot()) }
        return .cluster(cluster!.snapshot())
    }

    func restore(_ state: State) {
        switch state {
        case .coordinator(let snapshot): coordinator!.restore(snapshot)
        case .cluster(let snapshot): cluster!.restore(snapshot)
        }
    }
}
