/// Computes task blocks on real tensors in functional mode. The engines call it and attach the
/// result to the task flow; they never time it (virtual time comes from the PE-array model).
public protocol FunctionalExecutor: AnyObject {
    /// The input tensor of a new request of `workflow` (one with a generator), arriving at virtual
    /// time `injected`. Requests of workflows without a generator carry no data.
    func input(of workflow: WorkflowGraph, request: UInt64, injected: Cycle, seed: UInt64) -> Tensor
    /// The output of `block` of `workflow` on `input` (nil when the flow carries no data).
    func run(_ block: TaskBlock, of workflow: WorkflowGraph, input: Tensor?, seed: UInt64) -> Tensor
}
