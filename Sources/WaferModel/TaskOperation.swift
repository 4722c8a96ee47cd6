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
        case .layer(let layer): return LayerTiming.of(layer, array: array, buffer: buffer).reduce(0) { $0 + $1.totalCycles }
        case .vector(_, let operation): return operation.cycles(on: array)
        case .fixed(_, let cycles): return cycles
        case .model(let model): return model.cycles(values: model.minimumValues, array: array, buffer: buffer)
        }
    }
}
