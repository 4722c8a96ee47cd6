/// Non-matrix work on a TBU, with a documented cost model.
///
/// The PE array runs non-matrix work as a SIMD machine of `L = R·C` lanes (one element per PE per
/// cycle) behind a pipeline of `P = R + C − 2` cycles (the same skew a GEMM fold pays). A *pass* over
/// `n` elements costs ⌈n / L⌉ cycles; a reduction across `c` elements of a row costs ⌈log₂ c⌉ more
/// (a tree over lanes). Every operation pays `P` once. Memory-bound lookups pay the TBU link.
///
/// | operation | cycles |
/// |---|---|
/// | elementwise / activation over n | ⌈n/L⌉ + P |
/// | softmax over rows × cols | 4 passes (max, subtract+exp, sum, divide) + 2⌈log₂ cols⌉ + P |
/// | layer norm over rows × cols | 5 passes (mean, variance, subtract, scale, shift) + 2⌈log₂ cols⌉ + P |
/// | batch norm (inference) over n | 2 passes (scale, shift) + P |
/// | pooling: outputs × window | ⌈outputs·window / L⌉ + P |
/// | NMS over n candidates | sort(n) + 4·⌈n(n−1)/2 / L⌉ (IoU of every pair, 4 operations each) |
/// | top-k of n | ⌈n/L⌉·⌈log₂(k+1)⌉ + P (a tournament that keeps k) |
/// | sort of n | bitonic network: ⌈n/2 / L⌉ · s(s+1)/2 with s = ⌈log₂ n⌉, + P |
/// | gather: lookups × dim | lookups (one row access issued per cycle) + ⌈lookups·dim·word / link bandwidth⌉ |
public enum VectorOperation: Codable, Equatable, Sendable {
    case elementwise(elements: Int)
    case softmax(rows: Int, columns: Int)
    case layerNorm(rows: Int, columns: Int)
    case batchNorm(elements: Int)
    case pool(outputs: Int, window: Int)
    case nms(candidates: Int)
    case topK(elements: Int, k: Int)
    case sort(elements: Int)
    case gather(lookups: Int, dimension: Int)

    /// Cycles on `array`.
    public func cycles(on array: PEArrayConfig) -> Cycle {
        let lanes = array.rows * array.columns
        let pipeline = array.rows + array.columns - 2
        func pass(_ n: Int) -> Int { (max(n, 1) + lanes - 1) / lanes }
        func log2Ceil(_ n: Int) -> Int { n <= 1 ? 0 : Int.bitWidth - (n - 1).leadingZeroBitCount }
        let value: Int
        switch self {
        case .elementwise(let n): value = pass(n) + pipeline
        case .softmax(let rows, let columns): value = 4 * pass(rows * columns) + 2 * log2Ceil(columns) + pipeline
        case .layerNorm(let rows, let columns): value = 5 * pass(rows * columns) + 2 * log2Ceil(columns) + pipeline
        case .batchNorm(let n): value = 2 * pass(n) + pipeline
        case .pool(let outputs, let window): value = pass(outputs * window) + pipeline
        case .nms(let n): value = Int(VectorOperation.sort(elements: n).cycles(on: array)) + 4 * pass(n * (n - 1) / 2)
        case .topK(let n, let k): value = pass(n) * max(1, log2Ceil(k + 1)) + pipeline
        case .sort(let n):
            let stages = log2Ceil(n)
            value = pass((n + 1) / 2) * (stages * (stages + 1) / 2) + pipeline
        case .gather(let lookups, let dimension):
            let bytes = lookups * dimension * array.wordBytes
            value = lookups + (bytes + array.bandwidthBytesPerCycle - 1) / array.bandwidthBytesPerCycle
        }
        return Cycle(value)
    }

    /// The workflow-file keys and the shapes they take.
    public static let keys: [(key: String, shape: String, count: Int)] = [
        ("elementwise", "N", 1), ("activation", "N", 1), ("softmax", "[rows, cols]", 2),
        ("layernorm", "[rows, cols]", 2),
        ("batchnorm", "N", 1), ("pool", "[outputs, window]", 2), ("nms", "N candidates", 1), ("topk", "[n, k]", 2),
        ("sort", "N", 1), ("gather", "[lookups, dim]", 2),
    ]

    /// Builds the operation for workflow key `key` with `values` (as many as the key's shape).
    /// The problem with this operation's size, if any: the elements it touches (n² pairs for NMS)
    /// may be at most ``Limits/layerMACs``, so its timing never overflows.
    public var sizeProblem: String? {
        let factors: [Int]
        switch self {
        case .elementwise(let n), .batchNorm(let n), .sort(let n): factors = [n]
        case .softmax(let rows, let columns), .layerNorm(let rows, let columns): factors = [rows, columns]
        case .pool(let outputs, let window): factors = [outputs, window]
        case .nms(let n): factors = [n, n]
        case .topK(let n, let k): factors = [n, max(1, k)]
        case .gather(let lookups, let dimension): factors = [lookups, dimension]
        }
        return Layer.macsProblem(factors).map { _ in
            "the operation would touch more than \(Limits.layerMACs) elements (2^40)"
        }
    }

    public static func make(key: String, values: [Int]) -> VectorOperation? {
        switch (key, values.count) {
        case ("elementwise", 1), ("activation", 1): return .elementwise(elements: values[0])
        case ("softmax", 2): return .softmax(rows: values[0], columns: values[1])
        case ("layernorm", 2): return .layerNorm(rows: values[0], columns: values[1])
        case ("batchnorm", 1): return .batchNorm(elements: values[0])
        case ("pool", 2): return .pool(outputs: values[0], window: values[1])
        case ("nms", 1): return .nms(candidates: values[0])
        case ("topk", 2): return values[1] <= values[0] ? .topK(elements: values[0], k: values[1]) : nil
        case ("sort", 1): return .sort(elements: values[0])
        case ("gather", 2): return .gather(lookups: values[0], dimension: values[1])
        default: return nil
        }
    }
}
