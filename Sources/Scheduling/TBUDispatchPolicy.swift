import WaferModel

/// A task block waiting in a cluster's queue, as the TBU dispatcher sees it.
public struct QueuedTask: Equatable, Sendable {
    public var taskType: TaskType
    public var predictedCycles: Cycle
    /// Virtual time it joined the queue.
    public var enqueued: Cycle

    public init(taskType: TaskType, predictedCycles: Cycle, enqueued: Cycle) {
        self.taskType = taskType
        self.predictedCycles = predictedCycles
        self.enqueued = enqueued
    }
}

/// A TBU as the dispatcher sees it.
public struct TBUSnapshot: Equatable, Sendable {
    public var index: Int
    public var isBusy: Bool
    /// The task-block type the TBU is configured for; running another costs a reconfiguration.
    public var configuredFor: TaskType?

    public init(index: Int, isBusy: Bool, configuredFor: TaskType?) {
        self.index = index
        self.isBusy = isBusy
        self.configuredFor = configuredFor
    }
}

/// One decision: start queue entry `queuePosition` on TBU `tbu`.
public struct DispatchDecision: Equatable, Sendable {
    public var queuePosition: Int
    public var tbu: Int

    public init(queuePosition: Int, tbu: Int) {
        self.queuePosition = queuePosition
        self.tbu = tbu
    }
}

/// TBU-level scheduling inside a cluster: which queued blocks start on which free TBUs, as a pure
/// function of the queue and the TBUs. Decisions refer to distinct queue positions and free TBUs.
public protocol TBUDispatchPolicy: Sendable {
    var name: String { get }
    func dispatch(queue: some RandomAccessCollection<QueuedTask>, tbus: [TBUSnapshot]) -> [DispatchDecision]
}
