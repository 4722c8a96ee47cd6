import Scheduling
import WaferModel

/// Cycles of every task-block type on the wafer's PE array, computed once per run so the PE-array
/// model stays out of the per-event hot path.
public struct TaskCycleTable: Sendable {
    private let cycles: [[Cycle]]
    private let operations: [[[Cycle]]]
    /// Operations whose shapes are drawn per request, by block: (operation index, model).
    private let dynamic: [[[(index: Int, model: DynamicModel)]]]
    let array: PEArrayConfig
    let buffer: LayerTiming.ClusterBuffer
    /// Cycles a CBU spends on a control block.
    public let controlBlockCycles: Cycle

    public init(library: WorkflowLibrary, config: WaferConfig) {
        controlBlockCycles = config.cluster.controlBlockCycles
        array = config.cluster.peArray
        buffer = config.cluster.buffer
        dynamic = library.workflows.map { graph in
            graph.blocks.map { block in
                guard case .task(let task) = block.kind else { return [] }
                return task.operations.enumerated().compactMap { index, operation in
                    if case .model(let model) = operation { return (index, model) } else { return nil }
                }
            }
        }
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

    /// Cycles of `type` (for control blocks: the CBU cost). For blocks with per-request shapes this
    /// is the smallest possible duration: a valid lower bound and a conservative prediction.
    @inline(__always)
    public subscript(type: TaskType) -> Cycle { cycles[Int(type.workflow)][Int(type.block)] }

    /// Cycles of each operation of task block `type`, in order (empty for control blocks).
    public func operationCycles(_ type: TaskType) -> [Cycle] { operations[Int(type.workflow)][Int(type.block)] }

    /// The operations of `type` whose shapes are drawn per request.
    func dynamicOperations(_ type: TaskType) -> [(index: Int, model: DynamicModel)] { dynamic[Int(type.workflow)][Int(type.block)] }
}
