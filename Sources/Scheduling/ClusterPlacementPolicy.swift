import WaferModel

/// A task block that needs a cluster.
public struct PlacementRequest: Equatable, Sendable {
    public var taskType: TaskType
    /// Predicted cycles of the block on one TBU.
    public var predictedCycles: Cycle
    /// Bytes that must travel to the chosen cluster.
    public var inputBytes: UInt64
    /// Cluster that holds the input, or nil when it comes from off-wafer (injection).
    public var origin: Int?

    public init(taskType: TaskType, predictedCycles: Cycle, inputBytes: UInt64, origin: Int?) {
        self.taskType = taskType
        self.predictedCycles = predictedCycles
        self.inputBytes = inputBytes
        self.origin = origin
    }
}

/// Cluster-level placement: picks the cluster a task block runs on, as a pure function of a load
/// view and the mesh. Implementations know nothing of processes or sockets; the coordinator
/// evaluates them for injected work and publishes the view so clusters evaluate the same policy
/// for the successors of finished blocks.
public protocol ClusterPlacementPolicy: Sendable {
    /// Name used in configs, reports and traces.
    var name: String { get }
    /// The cluster for `request`. Must be deterministic for equal inputs.
    func place(_ request: PlacementRequest, view: WaferLoadView, mesh: Mesh) -> Int
}
