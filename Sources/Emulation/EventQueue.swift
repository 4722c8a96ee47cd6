import Collections
import WaferModel

/// Total order of events: time, then a rank that fixes which kind of simultaneous event goes
/// first, then a tie-break (source and sequence of a message, or local creation order).
public struct EventKey: Comparable, Sendable {
    public var time: Cycle
    public var rank: UInt8
    public var tie: UInt64

    public init(time: Cycle, rank: UInt8, tie: UInt64) {
        self.time = time
        self.rank = rank
        self.tie = tie
    }

    public static func < (a: EventKey, b: EventKey) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.rank != b.rank { return a.rank < b.rank }
        return a.tie < b.tie
    }
}

/// A priority queue of events in ``EventKey`` order.
public struct EventQueue<Event> {
    struct Entry: Comparable {
        var key: EventKey
        var event: Event
        static func < (a: Entry, b: Entry) -> Bool { a.key < b.key }
        static func == (a: Entry, b: Entry) -> Bool { a.key == b.key }
    }

    private var heap = Heap<Entry>()

    public init() {}

    public mutating func insert(_ event: Event, key: EventKey) { heap.insert(Entry(key: key, event: event)) }

    /// Time of the earliest event, or ``Cycle/never``.
    public var nextTime: Cycle { heap.min?.key.time ?? .never }

    /// Removes and returns the earliest event if it is before `end`.
    public mutating func popIfBefore(_ end: Cycle) -> (key: EventKey, event: Event)? {
        guard let top = heap.min, top.key.time < end else { return nil }
        let entry = heap.removeMin()
        return (entry.key, entry.event)
    }

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }

    /// All pending events, in no particular order (for lower bounds).
    public var unordered: [(key: EventKey, event: Event)] { heap.unordered.map { ($0.key, $0.event) } }
}
