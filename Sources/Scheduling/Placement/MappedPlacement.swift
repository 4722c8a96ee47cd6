import WaferModel

/// Placement of the spatial mappings (static, and Octopus's dual-scheduling): a type the plan
/// reserves TBUs for goes to one of its hosting clusters by the load-oblivious replica split
/// (``StaticReplicaPlacement``); any other type goes to the elastic pool by earliest predicted
/// completion (``CompletionTimePlacement``).
public struct MappedPlacement: PlacementPolicy {
    public let name = "mapped"
    public let usesRequestKey = true

    public init() {}

    public func place(_ request: PlacementRequest, in context: PlacementContext) -> Int {
        if let hosts = context.plan.hosts[request.taskType] {
            return StaticReplicaPlacement().place(request, hosts: hosts)
        }
        return CompletionTimePlacement().place(request, in: context)
    }
}
