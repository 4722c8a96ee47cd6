/// One step of a task block's work, timed on the TBU's PE array.
public enum TaskOperation: Codable, Equatable, Sendable {
    /// A model layer (GEMM or convolution), timed by ``LayerTiming``: SCALE-Sim-exact compute plus
    /// fill and bandwidth stalls.
    case layer(Layer)
    /// Non-matrix work (elementwise, softmax, normalisation, pooling, NMS, top-k, sort, gather).
    case vector(name: String, VectorOperation)
    /// General computation with a fixed, declared cost.
    case fixed(name: String, cycles: Cycle)
    /// A model table whose shapes are drawn per request; ``cycles(on:buffer:)`` gives the cycles at
    /// the smallest values, per-request cycles come from ``DynamicModel/cycles(values:array:buffer:)``.
    case model(DynamicModel)

    /// The operation's name as written in the workflow file.
    public var name: String {
        switch self {
        case .layer(let layer): return layer.name
        case .vector(let name, _), .fixed(let name, _): return name
        case .model(let model): return model.name
        }
    }

    /// Cycles of this operation on `array` fed from `buffer` (for layers: fill + compute + stalls of
    /// all its GEMMs).
    public func cycles(on array: PEArrayConfig, buffer: LayerTiming.ClusterBuffer? = nil) -> Cycle {
        switch self {
        case .layer(let layer):
            return LayerTiming.totalCycles(of: layer, array: array, buffer: buffer)
        case .vector(_, let operation): return operation.cycles(on: array)
        case .fixed(_, let cycles): return cycles
        case .model(let model): return model.cycles(values: model.minimumValues, array: array, buffer: buffer)
        }
    }
}

extension TaskOperation {
    /// Cycles of this operation when `parts` PE arrays share it (Adaptive TBU Scheduling's split).
    /// A layer's GEMMs are divided along the output columns or the output rows, whichever is faster
    /// (each array runs the slice; one array drain, `R + C` cycles, merges the results); a layer that
    /// lowers to several GEMMs (depthwise) deals them out to the arrays instead. Non-matrix and
    /// fixed-cost work is not divided: one array runs it while the others wait.
    public func cycles(on array: PEArrayConfig, buffer: LayerTiming.ClusterBuffer?, parts: Int) -> Cycle {
        guard parts > 1 else { return cycles(on: array, buffer: buffer) }
        switch self {
        case .layer(let layer): return TaskOperation.splitCycles(of: layer, on: array, buffer: buffer, parts: parts)
        case .vector, .fixed: return cycles(on: array, buffer: buffer)
        case .model(let model):
            let layers = (try? model.layers(values: model.minimumValues)) ?? []
            return layers.reduce(0) { $0 + TaskOperation.splitCycles(of: $1, on: array, buffer: buffer, parts: parts) }
        }
    }

    /// Cycles of `layer` on `parts` arrays (see ``cycles(on:buffer:parts:)``).
    public static func splitCycles(
        of layer: Layer, on array: PEArrayConfig, buffer: LayerTiming.ClusterBuffer?, parts: Int
    ) -> Cycle {
        let merge = Cycle(array.rows + array.columns)
        if let gemm = layer.singleGEMM {
            // Most layers lower to one GEMM: timed without building it (scheduling asks this for
            // thousands of drawn shapes).
            func time(m: Int, n: Int) -> Cycle {
                LayerTiming.totalCycles(m: m, n: n, k: gemm.k, array: array, buffer: buffer)
            }
            let single = time(m: gemm.m, n: gemm.n)
            guard parts > 1 else { return single }
            let alongN = time(m: gemm.m, n: (gemm.n + parts - 1) / parts)
            let alongM = time(m: (gemm.m + parts - 1) / parts, n: gemm.n)
            // The arrays share one cluster buffer, so a slice is never faster than a perfect share.
            return max(min(alongN, alongM), (single + Cycle(parts) - 1) / Cycle(parts)) + merge
        }
        // A depthwise convolution's GEMMs, one per channel, all alike: dealt out, the busiest
        // array runs ⌈count / parts⌉ of them.
        let shape = layer.loweredShape
        guard shape.count > 0 else { return parts > 1 ? merge : 0 }
        let each = LayerTiming.totalCycles(m: shape.m, n: shape.n, k: shape.k, array: array, buffer: buffer)
        let total = Cycle(shape.count) * each
        guard parts > 1 else { return total }
        let perArray = (shape.count + parts - 1) / parts
        let share = (total + Cycle(parts) - 1) / Cycle(parts)
        return max(Cycle(perArray) * each, share) + merge
    }
}

// Coded as a flat array whose first element says what it is — a layer's own fields
// (`["gemm", …]`, `["conv", …]`, see ``Layer``), `["vector", name, operation]`, `["fixed", name,
// cycles]` or `["model", model]` — for the reason layers are: the workflow library every cluster
// process decodes at start is mostly operations.
extension TaskOperation {
    public init(from decoder: any Decoder) throws {
        var fields = try decoder.unkeyedContainer()
        let tag = try fields.decode(String.self)
        switch tag {
        case "gemm", "conv": self = .layer(try Layer(tag: tag, fields: &fields))
        case "vector": self = .vector(name: try fields.decode(String.self), try fields.decode(VectorOperation.self))
        case "fixed": self = .fixed(name: try fields.decode(String.self), cycles: try fields.decode(Cycle.self))
        case "model": self = .model(try fields.decode(DynamicModel.self))
        default:
            throw DecodingError.dataCorruptedError(
                in: fields, debugDescription: "an operation is a layer, vector, fixed or model, not '\(tag)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.unkeyedContainer()
        switch self {
        case .layer(let layer): try layer.encode(flat: &fields)
        case .vector(let name, let operation):
            try fields.encode("vector")
            try fields.encode(name)
            try fields.encode(operation)
        case .fixed(let name, let cycles):
            try fields.encode("fixed")
            try fields.encode(name)
            try fields.encode(cycles)
        case .model(let model):
            try fields.encode("model")
            try fields.encode(model)
        }
    }
}
