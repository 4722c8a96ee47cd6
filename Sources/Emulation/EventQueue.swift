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
///
/// The heap orders small plain entries (a key and the slot of the event); the events, whose
/// payloads hold arrays, wait in slots beside it. Sifting then moves a few words without
/// retaining anything, and reading the next time copies no event — the engines ask for it
/// after every step. The order is the heap's over the keys alone, as if the events were in it.
public struct EventQueue<Event> {
    struct Entry: Comparable {
        var key: EventKey
        var slot: Int
        static func < (a: Entry, b: Entry) -> Bool { a.key < b.key }
        static func == (a: Entry, b: Entry) -> Bool { a.key == b.key }
    }

    private var heap = Heap<Entry>()
    private var slots: [Event?] = []
    private var freeSlots: [Int] = []

    public init() {}

    public mutating func insert(_ event: Event, key: EventKey) {
        let slot: Int
        if let reused = freeSlots.popLast() {
            slot = reused
            slots[slot] = event
        } else {
            slot = slots.count
            slots.append(event)
        }
        heap.insert(Entry(key: key, slot: slot))
    }

    /// Time of the earliest event, or ``Cycle/never``.
    public var nextTime: Cycle { heap.min?.key.time ?? .never }

    /// Removes and returns the earliest event if it is before `end`.
    public mutating func popIfBefore(_ end: Cycle) -> (key: EventKey, event: Event)? {
        guard let top = heap.min, top.key.time < end else { return nil }
        heap.removeMin()
        let event = slots[top.slot].take()!
        freeSlots.append(top.slot)
        return (top.key, event)
    }

    /// Removes and returns the delivered event (rank below 8, see ``ParticipantCore``) at `time`
    /// with tie-break `tie`, if it is pending: a delivery cancelled before it was processed.
    /// Linear in the queue's length (the optimistic experiment's anti-messages only).
    mutating func removeDelivered(at time: Cycle, tie: UInt64) -> Event? {
        guard let entry = heap.unordered.first(where: { $0.key.time == time && $0.key.tie == tie && $0.key.rank < 8 })
        else { return nil }
        heap = Heap(heap.unordered.filter { $0.slot != entry.slot })
        let event = slots[entry.slot].take()!
        freeSlots.append(entry.slot)
        return event
    }

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }

    /// All pending events, in no particular order (for lower bounds).
    public var unordered: [(key: EventKey, event: Event)] { heap.unordered.map { ($0.key, slots[$0.slot]!) } }
}
