import WaferModel

/// What a participant hands back after running one window.
public struct WindowOutput: Sendable {
    /// Envelopes sent in the window (all arrive at or after its end).
    public var envelopes: [Envelope]
    /// Trace records produced in the window.
    public var trace: [TimedTraceRecord]
    /// Time of the participant's next pending event, or ``Cycle/never``.
    public var nextEventTime: Cycle
    /// Earliest time the participant could send anything, given what it knows now.
    public var earliestOutput: Cycle
    /// Events processed in the window.
    public var events: UInt64

    public init(
        envelopes: [Envelope], trace: [TimedTraceRecord], nextEventTime: Cycle, earliestOutput: Cycle, events: UInt64
    ) {
        self.envelopes = envelopes
        self.trace = trace
        self.nextEventTime = nextEventTime
        self.earliestOutput = earliestOutput
        self.events = events
    }
}
