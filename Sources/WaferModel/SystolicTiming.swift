/// Compute timing of matrix work on a systolic PE array, equal to SCALE-Sim's.
///
/// A GEMM of an `M×K` by a `K×N` matrix maps to spatial rows `Sr`, spatial columns `Sc` and a
/// temporal dimension `T` by dataflow (SCALE-Sim `calc_spatio_temporal_params`):
/// OS: Sr = M, Sc = N, T = K; WS: Sr = K, Sc = N, T = M; IS: Sr = K, Sc = M, T = N.
/// On an `R×C` array the work folds into ⌈Sr/R⌉·⌈Sc/C⌉ folds. SCALE-Sim's demand matrices give
/// every fold the same length: operands stream for `T` cycles, the skew fills and drains the array
/// (`R − 1 + C − 1` cycles) and, for WS and IS, the stationary operand is loaded first (`R` more
/// cycles). Its reported "Total Cycles" (without prefetch, without stalls) is one less than the
/// sum of fold lengths:
///
///     OS:      folds · (T + R + C − 2) − 1
///     WS, IS:  folds · (T + 2R + C − 2) − 1
///
/// `scripts/scalesim-compare` checks this against SCALE-Sim 3.0.0 itself.
public enum SystolicTiming {
    /// The spatial and temporal dimensions of a GEMM under `dataflow`.
    public static func mapping(m: Int, n: Int, k: Int, dataflow: Dataflow) -> (
        spatialRows: Int, spatialColumns: Int, temporal: Int
    ) {
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

    /// Cycles of one fold.
    static func foldCycles(temporal: Int, array: PEArrayConfig) -> Int {
        let skew = array.rows + array.columns - 2
        return temporal + skew + (array.dataflow == .os ? 0 : array.rows)
    }

    /// Compute cycles of a GEMM (`M×K` · `K×N`) on `array`: SCALE-Sim's "Total Cycles" without stalls.
    public static func gemmCycles(m: Int, n: Int, k: Int, array: PEArrayConfig) -> Cycle {
        precondition(m > 0 && n > 0 && k > 0, "GEMM dimensions are positive")
        let map = mapping(m: m, n: n, k: k, dataflow: array.dataflow)
        let folds = ceilDiv(map.spatialRows, array.rows) * ceilDiv(map.spatialColumns, array.columns)
        return Cycle(folds * foldCycles(temporal: map.temporal, array: array) - 1)
    }

    /// SCALE-Sim's utilisation figures of a GEMM on `array`, as fractions (its report shows %).
    public struct Utilisation: Equatable, Sendable {
        /// MACs / (total cycles · PEs): SCALE-Sim's "Overall Util".
        public var overall: Double
        /// Mean over folds of the share of PEs mapped: "Mapping Efficiency".
        public var mapping: Double
        /// Mean over folds of the MACs done / (PEs · fold cycles): "Compute Util".
        public var compute: Double
    }

    /// Utilisation of a GEMM as SCALE-Sim reports it (`totalCycles` includes stalls, if any).
    public static func utilisation(m: Int, n: Int, k: Int, array: PEArrayConfig, totalCycles: Cycle) -> Utilisation {
        let map = mapping(m: m, n: n, k: k, dataflow: array.dataflow)
        let pes = Double(array.rows * array.columns)
        let folds = Double(folds(m: m, n: n, k: k, array: array))
        // Σ over folds of used rows × used columns is Sr·Sc, so the mean is Sr·Sc / folds.
        let mappingEfficiency = Double(map.spatialRows) * Double(map.spatialColumns) / (pes * folds)
        // SCALE-Sim measures a fold's compute utilisation against the length of its last demand
        // matrix plus its width: T + R + C − 2 for OS, T + 2R + 2C − 3 for WS and IS.
        let foldLength =
            array.dataflow == .os
            ? Double(map.temporal + array.rows + array.columns - 2)
            : Double(map.temporal + 2 * array.rows + 2 * array.columns - 3)
        return Utilisation(
            overall: Double(m) * Double(n) * Double(k) / (Double(totalCycles) * pes),
            mapping: mappingEfficiency,
            compute: mappingEfficiency * Double(map.temporal) / foldLength)
    }

    @inline(__always)
    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
}
