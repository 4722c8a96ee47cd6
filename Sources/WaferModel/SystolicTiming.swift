/// Timing of matrix work on a systolic PE array.
///
/// The foundation model is the analytical fold-based estimate of the SCALE-Sim paper
/// (Samajdar et al., ISPASS 2020, section III): a GEMM of an `M×K` by a `K×N` matrix is mapped
/// to spatial rows `Sr`, spatial columns `Sc` and a temporal dimension `T` that depend on the
/// dataflow (OS: Sr=M, Sc=N, T=K; WS: Sr=K, Sc=N, T=M; IS: Sr=K, Sc=M, T=N). On an `R×C` array
/// the work folds into ⌈Sr/R⌉·⌈Sc/C⌉ folds, each costing `2R + C + T − 2` cycles (fill the
/// array, stream `T` operands, drain the skew). Issue #3 replaces the per-fold term with
/// SCALE-Sim's exact per-dataflow counts; the interface stays the same.
public enum SystolicTiming {
    /// The spatial and temporal dimensions of a GEMM under `dataflow`.
    public static func mapping(m: Int, n: Int, k: Int, dataflow: Dataflow) -> (spatialRows: Int, spatialColumns: Int, temporal: Int) {
        switch dataflow {
        case .os: return (m, n, k)
        case .ws: return (k, n, m)
        case .is: return (k, m, n)
        }
    }

    /// Number of folds of a GEMM on `array`.
    public static func folds(m: Int, n: Int, k: Int, array: PEArrayConfig) -> Int {
        let map = mapping(m: m, n: n, k: k, dataflow: array.dataflow)
        return ceilDiv(map.spatialRows, array.rows) * ceilDiv(map.spatialColumns, array.columns)
    }

    /// Compute cycles of a GEMM (`M×K` · `K×N`) on `array`.
    public static func gemmCycles(m: Int, n: Int, k: Int, array: PEArrayConfig) -> Cycle {
        precondition(m > 0 && n > 0 && k > 0, "GEMM dimensions are positive")
        let map = mapping(m: m, n: n, k: k, dataflow: array.dataflow)
        let perFold = 2 * array.rows + array.columns + map.temporal - 2
        return Cycle(folds(m: m, n: n, k: k, array: array)) * Cycle(perFold)
    }

    /// Cycles of elementwise work over `elements` values: one value per PE per cycle.
    public static func elementwiseCycles(elements: Int, array: PEArrayConfig) -> Cycle {
        Cycle(ceilDiv(max(elements, 1), array.rows * array.columns))
    }

    @inline(__always)
    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
}
