import WaferModel

/// A block waiting in a cluster's queue, as the TBU dispatcher sees it.
public struct QueuedTask: Equatable, Sendable {
    public var taskType: TaskType
    public var predictedCycles: Cycle
    /// Virtual time it joined the queue.
    public var enqueued: Cycle
    /// A control block queued with task blocks (control plane `tbu`).
    public var isControl: Bool
    /// Absolute virtual time by which its request should finish (the workflow's deadline, or a
    /// reference deadline for workflows without one).
    public var deadline: Cycle

    public init(taskType: TaskType, predictedCycles: Cycle, enqueued: Cycle, isControl: Bool = false, deadline: Cycle = .max) {
        self.taskType = taskType
        self.predictedCycles = predictedCycles
        self.enqueued = enqueued
        self.isControl = isControl
        self.deadline = deadline
    }
}

/// A TBU as the dispatcher sees it.
public struct TBUSnapshot: Equatable, Sendable {
    public var index: Int
    public var isBusy: Bool
    /// The task-block type the TBU is configured for; running another costs a reconfiguration.
    public var configuredFor: TaskType?
    /// The types the TBU is reserved for by the scheduler's mapping (nil: any type).
    public var reservedFor: [TaskType]?

    public init(index: Int, isBusy: Bool, configuredFor: TaskType?, reservedFor: [TaskType]? = nil) {
        self.index = index
        self.isBusy = isBusy
        self.configuredFor = configuredFor
        self.reservedFor = reservedFor
    }

    /// True when the mapping lets this TBU run `task` (control blocks run anywhere).
    public func accepts(_ task: QueuedTask) -> Bool {
        task.isControl || reservedFor.map { $0.contains(task.taskType) } ?? true
    }
}

/// One decision: start queue entry `queuePosition` on the TBUs `tbus` (more than one: the block is
/// split across several PE arrays).
public struct DispatchDecision: Equatable, Sendable {
    public var queuePosition: Int
    public var tbus: [Int]

    public init(queuePosition: Int, tbus: [Int]) {
        self.queuePosition = queuePosition
        self.tbus = tbus
    }

    public init(queuePosition: Int, tbu: Int) {
        self.init(queuePosition: queuePosition, tbus: [tbu])
    }
}

/// What a dispatcher may ask about the cluster besides the queue and the TBUs.
public struct DispatchContext {
    public var now: Cycle
    public var reconfigurationCycles: Cycle
    /// Cycles of queue entry `position` split across `parts` arrays (parts = 1: unsplit).
    public var splitCycles: (_ position: Int, _ parts: Int) -> Cycle

    public init(now: Cycle, reconfigurationCycles: Cycle, splitCycles: @escaping (Int, Int) -> Cycle = { _, _ in 0 }) {
        self.now = now
        self.reconfigurationCycles = reconfigurationCycles
        self.splitCycles = splitCycles
    }
}

/// TBU-level scheduling inside a cluster: which queued blocks start on which free TBUs, as a
/// function of the queue, the TBUs and the policy's own state (a value owned by one cluster).
/// Decisions refer to distinct queue positions and distinct free TBUs that accept the block.
public protocol TBUDispatchPolicy: Sendable {
    var name: String { get }
    mutating func dispatch(queue: some RandomAccessCollection<QueuedTask>, tbus: [TBUSnapshot], context: DispatchContext) -> [DispatchDecision]
}

/// First come, first served: the oldest queued blocks go to the lowest free TBUs that accept them,
/// whatever those are configured for (reconfiguring when needed).
public struct FIFODispatch: TBUDispatchPolicy {
    public let name = "fifo"

    public init() {}

    public func dispatch(queue: some RandomAccessCollection<QueuedTask>, tbus: [TBUSnapshot], context: DispatchContext) -> [DispatchDecision] {
        var free = tbus.filter { !$0.isBusy }
        var decisions: [DispatchDecision] = []
        for (position, task) in queue.enumerated() {
            guard !free.isEmpty else { break }
            guard let slot = free.firstIndex(where: { $0.accepts(task) }) else { continue }
            decisions.append(DispatchDecision(queuePosition: position, tbu: free[slot].index))
            free.remove(at: slot)
        }
        return decisions
    }
}
