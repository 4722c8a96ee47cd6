/// The scheduling policies selectable by name (CLI flags, control messages).
public enum PolicyCatalog {
    /// Cluster-level placement policies by name.
    public static let placements: [String: any ClusterPlacementPolicy] = [
        "least-loaded": LeastLoadedPlacement(),
    ]

    /// TBU-level dispatch policies by name.
    public static let dispatchers: [String: any TBUDispatchPolicy] = [
        "fifo": FIFODispatch(),
    ]

    /// The placement policy called `name`, or nil.
    public static func placement(named name: String) -> (any ClusterPlacementPolicy)? { placements[name] }

    /// The dispatch policy called `name`, or nil.
    public static func dispatcher(named name: String) -> (any TBUDispatchPolicy)? { dispatchers[name] }
}
