import Scheduling
import WaferModel

/// The cycles of a request's block on this cluster's PE arrays: the static table for fixed shapes,
/// and, for shapes drawn per request or blocks split across arrays, computed once and cached.
/// Caching is invisible to results: every value is a pure function of its key.
final class BlockCosts {
    let table: TaskCycleTable
    private let streams: RequestStreams
    private let library: WorkflowLibrary

    /// Per-operation cycles by type, drawn values and number of arrays, and their totals.
    private var cycles: [Key: [Cycle]] = [:]
    private var totals: [Key: Cycle] = [:]
    /// Layers of per-request shapes (key: type, operation index then drawn values, parts 0).
    private var layers: [Key: [Layer]] = [:]
    /// Cycles of a layer on `parts` arrays, by its dimensions.
    private var layerCycleCache: [LayerKey: Cycle] = [:]

    struct LayerKey: Hashable {
        var dimensions: [Int]
        var depthwise: Bool
        var parts: Int
    }

    /// Cycles of `layer` split across `parts` arrays (1: on one array), as `TaskOperation` times it.
    func layerCycles(_ layer: Layer, parts: Int) -> Cycle {
        let key: LayerKey
        switch layer {
        case .gemm(_, let m, let n, let k):
            key = LayerKey(dimensions: [m, n, k], depthwise: false, parts: parts)
        case .conv(_, let h, let w, let fh, let fw, let c, let filters, let stride, let depthwise):
            key = LayerKey(dimensions: [h, w, fh, fw, c, filters, stride], depthwise: depthwise, parts: parts)
        }
        if let cached = layerCycleCache[key] { return cached }
        let cycles = TaskOperation.splitCycles(of: layer, on: table.array, buffer: table.buffer, parts: parts)
        layerCycleCache[key] = cycles
        return cycles
    }

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

    /// The shape parameters drawn for `task`'s block (empty when its shapes are fixed): from the
    /// request's own stream, so every host draws the same.
    func shape(of task: TaskMessage) -> [Int] {
        let dynamic = table.dynamicOperations(task.taskType)
        guard !dynamic.isEmpty else { return [] }
        var rng = streams.stream(for: task, .shape)
        let phase = streams.phase(of: task)
        return dynamic.flatMap { $0.model.sample(&rng, phase: phase) }
    }

    /// Total cycles of `task`'s block on `parts` arrays.
    func totalCycles(of task: TaskMessage, parts: Int) -> Cycle {
        totalCycles(task.taskType, shape: shape(of: task), parts: parts)
    }

    /// Total cycles of a block of `type` with drawn `shape` on `parts` arrays.
    func totalCycles(_ type: TaskType, shape: [Int], parts: Int) -> Cycle {
        if shape.isEmpty && parts == 1 { return table[type] }
        let key = Key(type: type, values: shape, parts: parts)
        if let cached = totals[key] { return cached }
        let total = operationCycles(type, shape: shape, parts: parts).reduce(0, +)
        totals[key] = total
        return total
    }

    /// Cycles of each operation of `task`'s block for this request on `parts` arrays.
    func operationCycles(of task: TaskMessage, parts: Int) -> [Cycle] {
        operationCycles(task.taskType, shape: shape(of: task), parts: parts)
    }

    /// Cycles of each operation of a block of `type` with drawn `shape` on `parts` arrays.
    func operationCycles(_ type: TaskType, shape values: [Int], parts: Int) -> [Cycle] {
        let base = table.operationCycles(type)
        let dynamic = table.dynamicOperations(type)
        guard !dynamic.isEmpty || parts > 1 else { return base }
        let key = Key(type: type, values: values, parts: parts)
        if let cached = cycles[key] { return cached }
        var result = base
        if parts > 1 {
            // The static operations' split cycles do not depend on the request: computed once.
            let staticKey = Key(type: type, values: [], parts: parts)
            if let cached = cycles[staticKey] {
                result = cached
            } else if case .task(let block) = library[Int(type.workflow)].blocks[Int(type.block)].kind {
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
            // A request's layers are asked for with several part counts while dispatch weighs a
            // split; most layers of a model do not depend on the drawn values and recur in every
            // request, so each layer's cycles are kept by its dimensions.
            let layersKey = Key(type: type, values: [index] + drawn, parts: 0)
            let drawnLayers = layers[layersKey] ?? ((try? model.layers(values: drawn)) ?? [])
            layers[layersKey] = drawnLayers
            result[index] = drawnLayers.reduce(0) { $0 + layerCycles($1, parts: parts) }
            offset += count
        }
        cycles[key] = result
        return result
    }
}
