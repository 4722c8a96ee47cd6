import Scheduling
import WaferModel

/// Cycles of every task-block type on the wafer's PE array, computed once per run so the PE-array
/// model stays out of the per-event hot path.
public struct TaskCycleTable: Sendable {
    private let cycles: [[Cycle]]
    /// Cycles a CBU spends on a control block.
    public let controlBlockCycles: Cycle

    public init(library: WorkflowLibrary, config: WaferConfig) {
        controlBlockCycles = config.cluster.controlBlockCycles
        cycles = library.workflows.map { graph in
            graph.blocks.map { block in
                switch block.kind {
                case .task(let task): return task.cycles(on: config.cluster.peArray)
                case .control: return config.cluster.controlBlockCycles
                }
            }
        }
    }

    /// Cycles of `type` (for control blocks: the CBU cost).
    @inline(__always)
    public subscript(type: TaskType) -> Cycle { cycles[Int(type.workflow)][Int(type.block)] }
}
