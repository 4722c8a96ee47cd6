import WaferModel

/// Collects the envelopes one participant sends during a window, stamping sequence numbers and
/// applying the window rule: nothing is delivered inside the window it was sent in.
struct Outbox {
    let source: ParticipantID
    let mode: SyncMode
    private(set) var envelopes: [Envelope] = []
    private var sequence: UInt64 = 0
    var windowEnd: Cycle = 0
    /// Messages sent, by ``Message/kindIndex``.
    private var sent = [UInt64](repeating: 0, count: Message.kindNames.count)
    /// Messages sent, by kind name (kinds never sent left out).
    var counts: [String: UInt64] {
        var counts: [String: UInt64] = [:]
        for (index, count) in sent.enumerated() where count > 0 { counts[Message.kindNames[index]] = count }
        return counts
    }
    var quantumDelayed: UInt64 = 0
    var quantumDelayCycles: Cycle = 0
    var causalityViolations: UInt64 = 0

    init(source: ParticipantID, mode: SyncMode) {
        self.source = source
        self.mode = mode
    }

    mutating func send(_ message: Message, to destination: ParticipantID, at time: Cycle, latency: Cycle) {
        var arrival = time + latency
        if arrival < windowEnd {
            // Exact mode guarantees this never happens; quantum mode defers to the window end.
            if mode == .exact {
                causalityViolations += 1
            } else {
                quantumDelayed += 1
                quantumDelayCycles += windowEnd - arrival
            }
            arrival = windowEnd
        }
        sequence += 1
        sent[message.kindIndex] += 1
        envelopes.append(
            Envelope(
                source: source, destination: destination, sendTime: time, arrival: arrival, sequence: sequence,
                message: message))
    }

    mutating func take() -> [Envelope] {
        defer { envelopes.removeAll(keepingCapacity: true) }
        return envelopes
    }

    /// Forgets what was sent, keeping the storage.
    mutating func clear() { envelopes.removeAll(keepingCapacity: true) }
}
