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
    /// The fill of each block's first GEMM when its first operation is a fixed-shape layer (the
    /// part a TBU can load ahead, see ``ClusterConfig/overlapsFill``), else 0.
    private let firstFills: [[Cycle]]
    /// The largest of them.
    let maximumFirstFill: Cycle

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
                if case .task(let task) = block.kind {
                    return task.operationCycles(on: config.cluster.peArray, buffer: config.cluster.buffer)
                }
                return []
            }
        }
        firstFills = library.workflows.map { graph in
            graph.blocks.map { block in
                guard case .task(let task) = block.kind, case .layer(let layer)? = task.operations.first else {
                    return 0
                }
                return LayerTiming.firstFillCycles(
                    of: layer, array: config.cluster.peArray, buffer: config.cluster.buffer)
            }
        }
        maximumFirstFill = firstFills.joined().max() ?? 0
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

    /// The fill of `type`'s first GEMM that a TBU can load ahead (0: none, see ``firstFills``).
    func firstFill(_ type: TaskType) -> Cycle { firstFills[Int(type.workflow)][Int(type.block)] }

    /// The operations of `type` whose shapes are drawn per request.
    func dynamicOperations(_ type: TaskType) -> [(index: Int, model: DynamicModel)] {
        dynamic[Int(type.workflow)][Int(type.block)]
    }
}

extension TaskCycleTable {
    /// Per workflow, the time a request should finish within: its declared deadline, or four
    /// times its expected PE-array work (analytic runs per block × cycles per run) when it has none.
    public func referenceDeadlines(_ library: WorkflowLibrary) -> [Cycle] {
        library.workflows.enumerated().map { w, graph in
            if let deadline = graph.deadlineCycles { return deadline }
            let visits = WorkflowAnalysis(graph).visits[0]
            let work = graph.blocks.indices.reduce(0.0) {
                $0 + visits[$1] * Double(self[TaskType(workflow: w, block: $1)])
            }
            return Cycle(max(1, 4 * work))
        }
    }

    /// Expected runs per request and predicted cycles per run of every task-block type (phase 0),
    /// and the task-block types reachable from each block: the planner's prior.
    public func plannerPrior(_ library: WorkflowLibrary) -> (
        visits: [TaskType: Double], cycles: [TaskType: Double], downstream: [TaskType: [TaskType]]
    ) {
        var visits: [TaskType: Double] = [:]
        var cycles: [TaskType: Double] = [:]
        var downstream: [TaskType: [TaskType]] = [:]
        for (w, graph) in library.workflows.enumerated() {
            let expected = WorkflowAnalysis(graph).visits[0]
            let structure = WorkflowStructure(graph)
            for (b, block) in graph.blocks.enumerated() {
                let type = TaskType(workflow: w, block: b)
                if block.isTask {
                    visits[type] = expected[b]
                    cycles[type] = Double(self[type])
                }
                // Forward reachability without loop back edges.
                var seen = Set<Int>()
                var stack = [b]
                while let current = stack.popLast() {
                    for case .block(let next) in graph.blocks[current].successors
                    where !structure.isBackEdge(from: current, to: next) && seen.insert(next).inserted {
                        stack.append(next)
                    }
                }
                downstream[type] = seen.filter { graph.blocks[$0].isTask && $0 != b }.sorted().map {
                    TaskType(workflow: w, block: $0)
                }
            }
        }
        return (visits, cycles, downstream)
    }
}
