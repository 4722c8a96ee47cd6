import WaferModel

/// One synchronisation window: every participant processes the events in `[start, end)`.
public struct WindowPlan: Equatable, Sendable {
    public var index: UInt64
    public var start: Cycle
    public var end: Cycle

    public init(index: UInt64, start: Cycle, end: Cycle) {
        self.index = index
        self.start = start
        self.end = end
    }
}

/// What the synchronizer needs to know about one participant between windows.
public struct ParticipantTiming: Equatable, Sendable {
    /// Its next local event.
    public var nextEvent: Cycle
    /// The earliest time it could send anything, from its own state.
    public var earliestOutput: Cycle
    /// Earliest arrival among messages in flight to it.
    public var earliestInbound: Cycle

    public init(nextEvent: Cycle = .never, earliestOutput: Cycle = .never, earliestInbound: Cycle = .never) {
        self.nextEvent = nextEvent
        self.earliestOutput = earliestOutput
        self.earliestInbound = earliestInbound
    }
}

/// Conservative windowed synchronisation (as in SST): the next window starts at the global earliest
/// event (skipping idle time) and ends at the smallest promised output time plus the lookahead, so
/// no message sent inside a window can arrive inside it. In quantum mode the window is at least
/// `window` cycles long and late messages are deferred to its end.
public struct WindowSynchronizer: Sendable {
    public let lookahead: Cycle
    public let mode: SyncMode
    public let quantum: Cycle
    /// Windows planned so far.
    public private(set) var windows: UInt64 = 0
    /// Virtual time every participant has reached (end of the last window).
    public private(set) var now: Cycle = 0
    /// Σ window lengths and the idle cycles skipped between windows.
    public private(set) var coveredCycles: Cycle = 0
    public private(set) var skippedCycles: Cycle = 0

    public init(config: WaferConfig) {
        lookahead = config.lookahead
        mode = config.sync.mode
        quantum = config.sync.window
    }

    /// Plans the next window, or returns nil when nothing is pending anywhere (the wafer is idle).
    public mutating func plan(_ participants: [ParticipantTiming]) -> WindowPlan? {
        guard let window = propose(participants) else { return nil }
        return commit(window)
    }

    /// The next conservative window, without counting it yet (nil: the wafer is idle). A
    /// speculative host may run a longer one from the same start (``commit(_:)`` it then).
    public func propose(_ participants: [ParticipantTiming]) -> (start: Cycle, end: Cycle)? {
        var start = Cycle.never
        var promise = Cycle.never
        for p in participants {
            start = min(start, p.nextEvent, p.earliestInbound)
            // A delivered message may trigger an immediate send, so it bounds the promise too.
            promise = min(promise, p.earliestOutput, p.earliestInbound)
        }
        guard start != .never else { return nil }
        precondition(start >= now, "an event at \(start) lies before the synchronised time \(now)")
        var end = promise.adding(lookahead)
        if mode == .quantum { end = max(end, start.adding(quantum)) }
        precondition(end > start, "empty window at \(start)")
        return (start, end)
    }

    /// Counts the window `[start, end)` as run.
    public mutating func commit(_ window: (start: Cycle, end: Cycle)) -> WindowPlan {
        precondition(window.start >= now && window.end > window.start, "window \(window) before \(now) or empty")
        windows += 1
        skippedCycles += window.start - now
        coveredCycles += window.end == .never ? 0 : window.end - window.start
        if window.end != .never { now = window.end }
        return WindowPlan(index: windows, start: window.start, end: window.end)
    }
}
