import Scheduling
import WaferModel

/// The cycles of a request's block on this cluster's PE arrays: the static table for fixed shapes,
/// and, for shapes drawn per request or blocks split across arrays, computed once and cached.
/// Caching is invisible to results: every value is a pure function of its key.
final class BlockCosts {
    let table: TaskCycleTable
    private let streams: RequestStreams
    private let library: WorkflowLibrary

    /// Per-operation cycles by type, drawn values and number of arrays.
    private var cycles: [Key: [Cycle]] = [:]
    /// Layers of per-request shapes (key: type, operation index then drawn values, parts 0).
    private var layers: [Key: [Layer]] = [:]

    struct Key: Hashable {
        var type: TaskType
        var values: [Int]
        var parts: Int
    }

    init(table: TaskCycleTable, streams: RequestStreams, library: WorkflowLibrary) {
        self.table = table
        self.streams = streams
        self.library = library
    }

    /// Predicted cycles of `type` on one array (the lower bound for per-request shapes).
    subscript(type: TaskType) -> Cycle { table[type] }

    /// Total cycles of `task`'s block on `parts` arrays.
    func totalCycles(of task: TaskMessage, parts: Int) -> Cycle { operationCycles(of: task, parts: parts).reduce(0, +) }

    /// Cycles of each operation of `task`'s block for this request on `parts` arrays: shapes drawn
    /// per request come from the request's own stream, so every host draws the same.
    func operationCycles(of task: TaskMessage, parts: Int) -> [Cycle] {
        let base = table.operationCycles(task.taskType)
        let dynamic = table.dynamicOperations(task.taskType)
        guard !dynamic.isEmpty || parts > 1 else { return base }
        var values: [Int] = []
        if !dynamic.isEmpty {
            var rng = streams.stream(for: task, .shape)
            let phase = streams.phase(of: task)
            values = dynamic.flatMap { $0.model.sample(&rng, phase: phase) }
        }
        let key = Key(type: task.taskType, values: values, parts: parts)
        if let cached = cycles[key] { return cached }
        var result = base
        if parts > 1 {
            // The static operations' split cycles do not depend on the request: computed once.
            let staticKey = Key(type: task.taskType, values: [], parts: parts)
            if let cached = cycles[staticKey] {
                result = cached
            } else if case .task(let block) = library[Int(task.taskType.workflow)].blocks[Int(task.taskType.block)].kind
            {
                result = block.operations.map { operation in
                    if case .model = operation { return 0 }  // drawn per request below
                    return operation.cycles(on: table.array, buffer: table.buffer, parts: parts)
                }
                cycles[staticKey] = result
            }
            if dynamic.isEmpty { return result }
        }
        var offset = 0
        for (index, model) in dynamic {
            let count = model.drawn.count
            let drawn = Array(values[offset..<offset + count])
            if parts > 1 {
                // One request's layers are asked for with several part counts while dispatch weighs a split.
                let layersKey = Key(type: task.taskType, values: [index] + drawn, parts: 0)
                let drawnLayers = layers[layersKey] ?? ((try? model.layers(values: drawn)) ?? [])
                layers[layersKey] = drawnLayers
                result[index] = drawnLayers.reduce(0) {
                    $0 + TaskOperation.splitCycles(of: $1, on: table.array, buffer: table.buffer, parts: parts)
                }
            } else {
                result[index] = model.cycles(values: drawn, array: table.array, buffer: table.buffer)
            }
            offset += count
        }
        cycles[key] = result
        return result
    }
}
