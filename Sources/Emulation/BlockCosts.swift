import Scheduling
import WaferModel

/// The cycles of a request's block on this cluster's PE arrays: the static table for fixed shapes,
/// and, for shapes drawn per request or blocks split across arrays, computed once and cached.
/// Caching is invisible to results: every value is a pure function of its key.
public final class BlockCosts {
    let table: TaskCycleTable
    private let streams: RequestStreams
    private let library: WorkflowLibrary

    /// Every (type, drawn values) seen, by its index (``intern(_:shape:)``), and the index of
    /// each; per index, the per-operation cycles and their totals by number of arrays (nil: not
    /// computed yet). A queued block keeps its shape's index, so the dispatch policy's many
    /// look-ups index arrays instead of hashing the drawn values each time.
    private var shapeIndex: [Shape: Int] = [:]
    private var shapes: [Shape] = []
    private var cyclesByShape: [[[Cycle]?]] = []
    private var totalsByShape: [[Cycle?]] = []
    /// The static operations' cycles on a number of arrays, by type (per-request ones are 0).
    private var staticSplits: [OperationKey: [Cycle]] = [:]
    /// Each dynamic model's rows split into those that do not depend on the drawn values and
    /// groups of identical rows that do, the latter prepared for evaluation (by type and operation
    /// index), and the cycles of the former on a number of arrays.
    private var models: [OperationKey: PreparedModel] = [:]
    private var fixedCycles: [OperationKey: Cycle] = [:]

    /// A block type's operation, and a number of arrays (0 where it does not matter).
    struct OperationKey: Hashable {
        var type: TaskType
        var operation: Int
        var parts: Int
    }

    struct PreparedModel {
        var split: TopologyTable.Groups
        /// The varying groups' first rows, prepared for the drawn values (nil: the table refused
        /// the workflow's parameters, so only the fixed rows count).
        var rows: TopologyTable.PreparedRows?
    }
    /// Cycles of a convolution on `parts` arrays, by its dimensions.
    private var convolutionCycleCache: [ConvolutionKey: Cycle] = [:]

    /// A convolution's dimensions and the number of arrays (inline: a lookup allocates nothing).
    struct ConvolutionKey: Hashable {
        var height, width, filterHeight, filterWidth, channels, filters, stride: Int
        var depthwise: Bool
        var parts: Int
    }

    /// Cycles of `layer` split across `parts` arrays (1: on one array), as `TaskOperation` times it.
    /// A GEMM is timed afresh each time — a few closed-form timings cost less than looking them up
    /// among the thousands of shapes a dynamic model draws; a convolution, which lowers to a GEMM
    /// per channel when depthwise, is timed once per shape.
    func layerCycles(_ layer: Layer, parts: Int) -> Cycle {
        guard case .conv(_, let h, let w, let fh, let fw, let c, let filters, let stride, let depthwise) = layer else {
            return TaskOperation.splitCycles(of: layer, on: table.array, buffer: table.buffer, parts: parts)
        }
        let key = ConvolutionKey(
            height: h, width: w, filterHeight: fh, filterWidth: fw, channels: c, filters: filters, stride: stride,
            depthwise: depthwise, parts: parts)
        if let cached = convolutionCycleCache[key] { return cached }
        let cycles = TaskOperation.splitCycles(of: layer, on: table.array, buffer: table.buffer, parts: parts)
        convolutionCycleCache[key] = cycles
        return cycles
    }

    /// A block type with the shape parameters drawn for one request (empty when fixed).
    struct Shape: Hashable {
        var type: TaskType
        var values: [Int]
    }

    init(table: TaskCycleTable, streams: RequestStreams, library: WorkflowLibrary) {
        self.table = table
        self.streams = streams
        self.library = library
    }

    /// The costs of `library`'s blocks on `config`'s arrays, with empty caches. Not thread-safe:
    /// share one only between participants that run one at a time (one process's clusters).
    public static func shared(config: WaferConfig, library: WorkflowLibrary) -> BlockCosts {
        BlockCosts(
            table: TaskCycleTable(library: library, config: config),
            streams: RequestStreams(seed: config.seed, library: library), library: library)
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
        return dynamic.flatMap { operation in
            operation.model.sample(&rng, phase: phase) { self.streams.value(of: $0, for: task) }
        }
    }

    /// The index of `type` with drawn `shape` in this cache, the same for every block of that
    /// type and shape (valid for the lifetime of the cache, across snapshots of its engine).
    func intern(_ type: TaskType, shape: [Int]) -> Int {
        let key = Shape(type: type, values: shape)
        if let index = shapeIndex[key] { return index }
        let index = shapes.count
        shapes.append(key)
        shapeIndex[key] = index
        cyclesByShape.append([])
        totalsByShape.append([])
        return index
    }

    /// Total cycles of `task`'s block on `parts` arrays.
    func totalCycles(of task: TaskMessage, parts: Int) -> Cycle {
        totalCycles(task.taskType, shape: shape(of: task), parts: parts)
    }

    /// Total cycles of a block of `type` with drawn `shape` on `parts` arrays.
    func totalCycles(_ type: TaskType, shape: [Int], parts: Int) -> Cycle {
        if shape.isEmpty && parts == 1 { return table[type] }
        return totalCycles(shape: intern(type, shape: shape), parts: parts)
    }

    /// Total cycles of a block of interned shape `index` (``intern(_:shape:)``) on `parts` arrays.
    func totalCycles(shape index: Int, parts: Int) -> Cycle {
        if parts < totalsByShape[index].count, let cached = totalsByShape[index][parts] { return cached }
        if parts == 1 && shapes[index].values.isEmpty { return table[shapes[index].type] }
        let total = operationCycles(shape: index, parts: parts).reduce(0, +)
        Self.store(total, in: &totalsByShape[index], at: parts)
        return total
    }

    /// Cycles of each operation of `task`'s block for this request on `parts` arrays.
    func operationCycles(of task: TaskMessage, parts: Int) -> [Cycle] {
        operationCycles(task.taskType, shape: shape(of: task), parts: parts)
    }

    /// Cycles of each operation of a block of `type` with drawn `shape` on `parts` arrays.
    func operationCycles(_ type: TaskType, shape values: [Int], parts: Int) -> [Cycle] {
        if table.dynamicOperations(type).isEmpty && parts == 1 { return table.operationCycles(type) }
        return operationCycles(shape: intern(type, shape: values), parts: parts)
    }

    /// Cycles of each operation of a block of interned shape `index` on `parts` arrays.
    func operationCycles(shape index: Int, parts: Int) -> [Cycle] {
        if parts < cyclesByShape[index].count, let cached = cyclesByShape[index][parts] { return cached }
        let result = computeOperationCycles(shapes[index].type, shape: shapes[index].values, parts: parts)
        Self.store(result, in: &cyclesByShape[index], at: parts)
        return result
    }

    private static func store<Value>(_ value: Value, in slots: inout [Value?], at parts: Int) {
        if slots.count <= parts { slots.append(contentsOf: repeatElement(nil, count: parts + 1 - slots.count)) }
        slots[parts] = value
    }

    private func computeOperationCycles(_ type: TaskType, shape values: [Int], parts: Int) -> [Cycle] {
        let base = table.operationCycles(type)
        let dynamic = table.dynamicOperations(type)
        guard !dynamic.isEmpty || parts > 1 else { return base }
        var result = base
        if parts > 1 {
            // The static operations' split cycles do not depend on the request: computed once.
            let staticKey = OperationKey(type: type, operation: -1, parts: parts)
            if let cached = staticSplits[staticKey] {
                result = cached
            } else if case .task(let block) = library[Int(type.workflow)].blocks[Int(type.block)].kind {
                result = block.operations.map { operation in
                    if case .model = operation { return 0 }  // drawn per request below
                    return operation.cycles(on: table.array, buffer: table.buffer, parts: parts)
                }
                staticSplits[staticKey] = result
            }
            if dynamic.isEmpty { return result }
        }
        var offset = 0
        for (index, model) in dynamic {
            let count = model.drawn.count
            result[index] = modelCycles(
                type, operation: index, model: model, values: Array(values[offset..<offset + count]), parts: parts)
            offset += count
        }
        return result
    }

    /// Cycles of a model whose shape parameters were drawn as `values` (in name order) on `parts`
    /// arrays: the layers that do not depend on them are timed once per part count, and each group
    /// of identical dependent layers once per shape — a decoder's attention heads are hundreds of
    /// identical rows. The sum is the same as timing every layer of the expanded table.
    private func modelCycles(_ type: TaskType, operation index: Int, model: DynamicModel, values: [Int], parts: Int)
        -> Cycle
    {
        let modelKey = OperationKey(type: type, operation: index, parts: 0)
        let prepared: PreparedModel
        if let known = models[modelKey] {
            prepared = known
        } else {
            // The table was validated with these parameters at load, so it evaluates.
            let split =
                (try? model.table.groups(overrides: model.fixed, varying: Set(model.drawn.keys)))
                ?? TopologyTable.Groups(fixed: [], varying: [])
            // The drawn values come in name order.
            let rows = try? model.table.prepare(
                rows: split.varying.map(\.row), fixed: model.fixed, inputs: model.drawn.keys.sorted())
            prepared = PreparedModel(split: split, rows: rows)
            models[modelKey] = prepared
        }
        let fixedKey = OperationKey(type: type, operation: index, parts: parts)
        let fixed: Cycle
        if let known = fixedCycles[fixedKey] {
            fixed = known
        } else {
            fixed = prepared.split.fixed.reduce(0) { $0 + layerCycles($1, parts: parts) }
            fixedCycles[fixedKey] = fixed
        }
        guard let rows = prepared.rows else { return fixed }
        var total = fixed
        for (position, group) in prepared.split.varying.enumerated() {
            guard let layer = rows.layer(position, inputs: values) else { continue }
            total += Cycle(group.count) * layerCycles(layer, parts: parts)
        }
        return total
    }
}
