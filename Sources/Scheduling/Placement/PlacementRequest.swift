import WaferModel

/// A block that needs a cluster.
public struct PlacementRequest: Equatable, Sendable {
    public var taskType: TaskType
    /// Predicted cycles of the block on one TBU.
    public var predictedCycles: Cycle
    /// Bytes that must travel to the chosen cluster.
    public var inputBytes: UInt64
    /// Cluster that holds the input, or nil when it comes from off-wafer (injection).
    public var origin: Int?
    /// A key fixed by the request (and its loop iterations and fan-out items), for load-oblivious
    /// replica choices that every cluster makes the same way.
    public var key: UInt64

    public init(taskType: TaskType, predictedCycles: Cycle, inputBytes: UInt64, origin: Int?, key: UInt64 = 0) {
        self.taskType = taskType
        self.predictedCycles = predictedCycles
        self.inputBytes = inputBytes
        self.origin = origin
        self.key = key
    }
}
