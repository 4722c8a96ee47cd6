import WaferModel

/// An event of a participant's state machine, with the rank that orders simultaneous events.
protocol ParticipantEvent {
    /// Lower ranks go first among events at the same time.
    var rank: UInt8 { get }
}

/// The part every participant (the coordinator and each cluster) shares: its event queue in a
/// fixed total order, the outbox of what it sends, the trace records of the window, and the
/// window loop. The model lives in the engines; this is only the discrete-event machinery.
final class ParticipantCore<Event: ParticipantEvent> {
    private(set) var events = EventQueue<Event>()
    private var localSequence: UInt64 = 0
    var outbox: Outbox
    /// Trace records of the window being run, with the time of the event that made each.
    private var trace: [TimedTraceRecord] = []
    /// Time of the event being handled.
    private(set) var currentTime: Cycle = 0
    /// Events processed over the run.
    private(set) var eventCount: UInt64 = 0
    /// Events the event being handled stands for besides itself (``countAlso(_:)``).
    private var alsoProcessed: UInt64 = 0

    init(source: ParticipantID, mode: SyncMode) {
        outbox = Outbox(source: source, mode: mode)
    }

    /// The core's state at a window's start, for a speculative window that may have to run again.
    struct Snapshot {
        var events: EventQueue<Event>
        var localSequence: UInt64
        var outbox: Outbox
        var eventCount: UInt64
        var currentTime: Cycle
    }

    /// Saves the state (values share storage until the run changes them). Trace and sends of the
    /// window must have been taken.
    func snapshot() -> Snapshot {
        precondition(trace.isEmpty && outbox.envelopes.isEmpty, "a snapshot is taken between windows")
        return Snapshot(
            events: events, localSequence: localSequence, outbox: outbox, eventCount: eventCount,
            currentTime: currentTime)
    }

    /// Returns to `snapshot`, dropping what was traced and sent since.
    func restore(_ snapshot: Snapshot) {
        events = snapshot.events
        localSequence = snapshot.localSequence
        outbox = snapshot.outbox
        eventCount = snapshot.eventCount
        currentTime = snapshot.currentTime
        trace.removeAll(keepingCapacity: true)
    }

    /// Queues the event a delivered message causes, at its arrival. The envelope's tie-break
    /// (source, then the source's sequence) fixes the order among simultaneous deliveries, whatever
    /// order the host delivered them in.
    func deliver(_ event: Event, of envelope: Envelope) {
        events.insert(event, key: EventKey(time: envelope.arrival, rank: event.rank, tie: envelope.deliveryTieBreak))
    }

    /// Takes back the pending event a delivered `envelope` caused (nil if it was processed or
    /// never delivered): the optimistic experiment's anti-message meeting its message.
    func cancelDelivery(of envelope: Envelope) -> Event? {
        events.removeDelivered(at: envelope.arrival, tie: envelope.deliveryTieBreak)
    }

    /// Schedules a local event at `time`. Local events rank after delivered ones of the same kind
    /// (rank + 8 keeps the kinds apart) and among themselves in creation order.
    func schedule(_ event: Event, at time: Cycle) {
        localSequence += 1
        events.insert(event, key: EventKey(time: time, rank: event.rank &+ 8, tie: localSequence))
    }

    /// Counts `events` more as processed: the event being handled stands for them too (a view
    /// update merged from several, ``LoadViewUpdate/merged(_:)``), so the count stays the one
    /// of a run that delivered them one by one.
    func countAlso(_ events: UInt64) { alsoProcessed += events }

    /// Adds a trace record made by the event being handled.
    func record(_ record: TraceRecord) {
        trace.append(TimedTraceRecord(time: currentTime, record: record))
    }

    /// Time of the next pending event, or ``Cycle/never``.
    var nextEventTime: Cycle { events.nextTime }

    /// Runs every event before `end` through `handle` and returns what the window produced;
    /// `earliestOutput` is asked after the last event.
    func runWindow(
        end: Cycle, speculative: Bool = false, handle: (Event, Cycle) -> Void, earliestOutput: () -> Cycle
    ) -> WindowOutput {
        let processed = advance(before: end, speculative: speculative, handle: handle)
        let output = WindowOutput(
            envelopes: outbox.take(), trace: trace, nextEventTime: events.nextTime,
            earliestOutput: earliestOutput(), events: processed)
        trace.removeAll(keepingCapacity: true)
        return output
    }

    /// Runs every event before `end` through `handle`, leaving what it sent and traced for
    /// ``takeEnvelopes()`` and ``takeTrace()``; returns how many events it processed.
    @discardableResult
    func advance(before end: Cycle, speculative: Bool = false, handle: (Event, Cycle) -> Void) -> UInt64 {
        // A speculative window may deliver messages inside itself (the host runs their receivers
        // again), so the rule "nothing arrives inside its window" holds only without speculation.
        outbox.windowEnd = speculative ? 0 : end
        var processed: UInt64 = 0
        while let (key, event) = events.popIfBefore(end) {
            processed += 1
            currentTime = key.time
            handle(event, key.time)
        }
        processed += alsoProcessed
        alsoProcessed = 0
        eventCount += processed
        return processed
    }

    /// What was sent since the last take.
    func takeEnvelopes() -> [Envelope] { outbox.take() }

    /// True when something was sent since the last take.
    var hasEnvelopes: Bool { !outbox.envelopes.isEmpty }

    /// Trace records made since the last take.
    func takeTrace() -> [TimedTraceRecord] {
        defer { trace.removeAll(keepingCapacity: true) }
        return trace
    }

    /// Hands every envelope sent since the last take to `deliver`, in order, then empties the
    /// outbox keeping its storage (the one-process engine takes them after every step: a taken
    /// array would make the outbox allocate again each time).
    func deliverEnvelopes(_ deliver: (Envelope) -> Void) {
        for envelope in outbox.envelopes { deliver(envelope) }
        outbox.clear()
    }

    /// Appends the trace records made since the last take to `buffer`, keeping this storage.
    func moveTrace(into buffer: inout [TimedTraceRecord]) {
        buffer.append(contentsOf: trace)
        trace.removeAll(keepingCapacity: true)
    }
}
