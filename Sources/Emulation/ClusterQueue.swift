import Collections
import Scheduling
import WaferModel

/// A block waiting in a cluster's queue: the message itself and what the dispatcher sees of it.
struct QueuedBlock {
    var task: TaskMessage
    var info: QueuedTask
    /// The block's shape (its type with the parameters drawn for this request), interned in the
    /// cluster's ``BlockCosts`` (``BlockCosts/intern(_:shape:)``); -1 for a control block.
    var shape = -1
}

/// A cluster's queue of task blocks (and of control blocks when they run on the arrays), oldest
/// first, with the time integral of "the queue is not empty" that splits TBU idle time into
/// starved and unassigned.
struct ClusterQueue {
    private(set) var entries = Deque<QueuedBlock>()
    private var integral: Cycle = 0
    private var integralUpdated: Cycle = 0
    /// Times the queue became non-empty and empty again, alternately, for the idle timeline. The
    /// log is shared by the queue's copies (a speculation snapshot copies the queue every window,
    /// and copying the log each time would cost O(run length)); a restored copy trims what was
    /// logged after it was taken (``trimToggleLog()``).
    private let toggleLog = TimeLog()
    private var toggleCount = 0

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The queue as dispatch and balancing policies see it.
    var tasks: LazyMapCollection<Deque<QueuedBlock>, QueuedTask> { entries.lazy.map(\.info) }

    subscript(position: Int) -> QueuedBlock { entries[position] }

    /// The queue as a dispatch policy sees it (a snapshot: it shares the storage until the queue changes).
    var view: QueueView {
        let entries = self.entries
        return QueueView(count: entries.count) { entries[$0].info }
    }

    mutating func append(_ block: QueuedBlock, at now: Cycle) {
        updateIntegral(at: now)
        if entries.isEmpty { logToggle(at: now) }
        entries.append(block)
    }

    /// Removes the blocks at `positions` (any order) and returns them in the order of `positions`.
    mutating func remove(at positions: [Int], at now: Cycle) -> [QueuedBlock] {
        updateIntegral(at: now)
        let taken = positions.map { entries[$0] }
        for position in positions.sorted(by: >) { entries.remove(at: position) }
        if entries.isEmpty && !taken.isEmpty { logToggle(at: now) }
        return taken
    }

    private mutating func logToggle(at now: Cycle) {
        toggleLog.times.append(now)
        toggleCount += 1
    }

    /// Drops toggles logged after this copy of the queue was taken (call after restoring a snapshot).
    func trimToggleLog() {
        if toggleLog.times.count > toggleCount { toggleLog.times.removeLast(toggleLog.times.count - toggleCount) }
    }

    /// When the queue became non-empty and empty again, alternately, oldest first.
    var toggles: [Cycle] { Array(toggleLog.times.prefix(toggleCount)) }

    /// Predicted cycles of every queued block.
    var pendingCycles: Cycle { entries.reduce(0) { $0 + $1.info.predictedCycles } }

    /// The shortest queued block's predicted cycles.
    var shortestPredicted: Cycle? { entries.lazy.map(\.info.predictedCycles).min() }

    /// Cycles up to `now` during which the queue held something.
    func integralValue(at now: Cycle) -> Cycle {
        // A run stopped early (an error) may account up to a time this queue has passed.
        entries.isEmpty || now < integralUpdated ? integral : integral + (now - integralUpdated)
    }

    private mutating func updateIntegral(at now: Cycle) {
        integral = integralValue(at: now)
        integralUpdated = now
    }
}

/// An append-only list of times shared by value copies of its owner.
final class TimeLog {
    var times: [Cycle] = []
}
