/// One step of a task block's work, timed on the TBU's PE array.
public enum TaskOperation: Codable, Equatable, Sendable {
    /// A matrix multiplication `M×K · K×N` (a fully connected or lowered convolution layer).
    case gemm(name: String, m: Int, n: Int, k: Int)
    /// Elementwise work over `elements` values (activation, scaling, normalisation passes).
    case elementwise(name: String, elements: Int)
    /// General computation with a fixed, declared cost.
    case fixed(name: String, cycles: Cycle)

    /// The operation's name as written in the workflow file.
    public var name: String {
        switch self {
        case .gemm(let name, _, _, _), .elementwise(let name, _), .fixed(let name, _): return name
        }
    }

    /// Cycles of this operation on `array`.
    public func cycles(on array: PEArrayConfig) -> Cycle {
        switch self {
        case .gemm(_, let m, let n, let k): return SystolicTiming.gemmCycles(m: m, n: n, k: k, array: array)
        case .elementwise(_, let elements): return SystolicTiming.elementwiseCycles(elements: elements, array: array)
        case .fixed(_, let cycles): return cycles
        }
    }
}
