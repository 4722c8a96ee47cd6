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
    /// Whether balancing may move it to another cluster: not a block holding a flow-control
    /// credit, which stays in the input buffer its sender reserved (`cluster.flow_credits`).
    public var movable: Bool

    public init(
        taskType: TaskType, predictedCycles: Cycle, enqueued: Cycle, isControl: Bool = false, deadline: Cycle = .max,
        movable: Bool = true
    ) {
        self.taskType = taskType
        self.predictedCycles = predictedCycles
        self.enqueued = enqueued
        self.isControl = isControl
        self.deadline = deadline
        self.movable = movable
    }
}

/// A cluster's queue as a dispatch policy sees it: blocks oldest first, a block's index being its
/// queue position. A concrete type (not a generic collection) so a policy called through
/// `any TBUDispatchPolicy` reads it without generic dispatch.
public struct QueueView: RandomAccessCollection, ExpressibleByArrayLiteral {
    public let count: Int
    private let element: (Int) -> QueuedTask

    /// A view of `count` blocks, block `i` given by `element(i)`.
    public init(count: Int, element: @escaping (Int) -> QueuedTask) {
        self.count = count
        self.element = element
    }

    public init(_ tasks: [QueuedTask]) {
        self.init(count: tasks.count) { tasks[$0] }
    }

    public init(arrayLiteral elements: QueuedTask...) { self.init(elements) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> QueuedTask { element(position) }
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
/// function of the queue, the TBUs and the policy's own state. The policy is a value: every
/// cluster owns its own copy, so state (learned weights, counters) is per cluster.
///
/// The contract the cluster engine relies on:
/// - **Valid decisions.** Each decision names a distinct queue position and distinct TBUs that are
///   free and accept the block (``TBUSnapshot/accepts(_:)``). The engine checks this and stops
///   the run with the policy's name if it is broken.
/// - **Bounded splitting.** A block started on `n` arrays finishes no sooner than its one-array
///   cycles divided by `n` (``DispatchContext/splitCycles`` never beats that), and `n` is never
///   more than ``maximumArrays(of:)``. The cluster's earliest-output promise — how far the wafer
///   may run before anything it sends could arrive — divides the shortest queued block by that
///   number; a policy that split further than it declares would let a message arrive in a window
///   already run (a causality violation). The engine refuses decisions beyond the declared bound.
/// - **Deterministic.** Decisions depend only on the arguments and the policy's own state, never
///   on wall time or a global random generator.
public protocol TBUDispatchPolicy: Sendable {
    /// Name used in documentation and errors.
    var name: String { get }
    /// The most arrays this policy ever starts one block on, in a cluster of `tbus` TBUs (1 for a
    /// policy that never splits).
    func maximumArrays(of tbus: Int) -> Int
    /// The blocks to start now.
    mutating func dispatch(
        queue: QueueView, tbus: [TBUSnapshot], context: DispatchContext
    ) -> [DispatchDecision]
}
