import WaferModel

/// Placement of work-stealing runtimes: a successor stays on the cluster that produced its input;
/// an injected request goes to the cluster with the earliest predicted completion (ignoring
/// configurations). Rebalancing, if any, is left to the balancing policy.
public struct LocalPlacement: PlacementPolicy {
    public let name = "local"
    public let usesRequestKey = false

    public init() {}

    public func place(_ request: PlacementRequest, in context: PlacementContext) -> Int {
        if let origin = request.origin { return origin }
        return CompletionTimePlacement().place(request, view: context.view, mesh: context.mesh, candidates: nil)
    }
}
