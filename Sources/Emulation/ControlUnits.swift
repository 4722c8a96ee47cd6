import Collections
import WaferModel

/// A cluster's CBUs (Control Block Units) and the queue of control blocks waiting for them, on
/// the decoupled control plane: control blocks never wait behind task blocks.
struct ControlUnits {
    struct CBU {
        var running: TaskMessage?
        var sliceStart: Cycle = 0
    }

    private(set) var units: [CBU]
    private(set) var queue = Deque<TaskMessage>()
    /// Cycles the CBUs spent on control blocks.
    private(set) var busyCycles: Cycle = 0

    init(count: Int) {
        units = Array(repeating: CBU(), count: count)
    }

    mutating func enqueue(_ task: TaskMessage) { queue.append(task) }

    /// Starts queued control blocks on free CBUs, `duration` cycles each; returns (CBU, block) in order.
    mutating func startWaiting(at now: Cycle, duration: Cycle) -> [(cbu: Int, task: TaskMessage)] {
        var started: [(cbu: Int, task: TaskMessage)] = []
        for index in units.indices where units[index].running == nil {
            guard let task = queue.popFirst() else { break }
            units[index] = CBU(running: task, sliceStart: now)
            busyCycles += duration
            started.append((index, task))
        }
        return started
    }

    /// Ends the block on CBU `index`; returns it with its slice start.
    mutating func finish(_ index: Int) -> (task: TaskMessage, sliceStart: Cycle) {
        guard let task = units[index].running else { preconditionFailure("CBU \(index) finished without work") }
        units[index].running = nil
        return (task, units[index].sliceStart)
    }
}
