import Scheduling
import WaferModel

/// Cycles of every task-block type on the wafer's PE array, computed once per run so the PE-array
/// model stays out of the per-event hot path.
public struct TaskCycleTable: Sendable {
    private let cycles: [[Cycle]]
    private let operations: [[[Cycle]]]
    /// Cycles a CBU spends on a control block.
    public let controlBlockCycles: Cycle

    public init(library: WorkflowLibrary, config: WaferConfig) {
        controlBlockCycles = config.cluster.controlBlockCycles
        operations = library.workflows.map { graph in
            graph.blocks.map { block in
                if case .task(let task) = block.kind { return task.operationCycles(on: config.cluster.peArray, buffer: config.cluster.buffer) }
                return []
            }
        }
        cycles = zip(library.workflows, operations).map { graph, perBlock in
            zip(graph.blocks, perBlock).map { block, ops in
                block.isTask ? ops.reduce(0, +) : config.cluster.controlBlockCycles
            }
        }
    }

    /// Cycles of `type` (for control blocks: the CBU cost).
    @inline(__always)
    public subscript(type: TaskType) -> Cycle { cycles[Int(type.workflow)][Int(type.block)] }

    /// Cycles of each operation of task block `type`, in order (empty for control blocks).
    public func operationCycles(_ type: TaskType) -> [Cycle] { operations[Int(type.workflow)][Int(type.block)] }
}
