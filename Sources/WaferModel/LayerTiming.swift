/// The time of one GEMM on one TBU: SCALE-Sim-exact compute cycles plus a documented memory model.
///
/// **Memory model.** Operands live in the cluster buffer and move to the TBU's SRAM over a link of
/// `bandwidthBytesPerCycle`; the SRAM is split into equal ifmap, filter and ofmap buffers, each
/// double-buffered (half is usable for the working set). An operand indexed by the spatial rows
/// (OS: ifmap; WS: ifmap; IS: filter) is fetched once if it fits its half-buffer, otherwise once per
/// column fold; one indexed by the spatial columns (OS: filter), likewise once per row fold; the
/// stationary operand of WS and IS is fetched once. Outputs are written once, and WS/IS partial sums
/// are read and written again for every extra row fold. Before the first fold its share of the
/// operands must arrive (**fill**); the rest of the traffic overlaps compute, and any excess over the
/// compute cycles is a **bandwidth stall**.
///
/// **Cluster buffer.** When a layer's operands (ifmap + filter + ofmap) exceed the cluster buffer,
/// the excess streams in from outside the cluster at the buffer's refill bandwidth, overlapped with
/// the rest; what it cannot hide is a **buffer stall**. Total = fill + compute + bandwidth stall +
/// buffer stall.
public struct LayerTiming: Equatable, Sendable {
    /// The cluster buffer a TBU's operands come from.
    public struct ClusterBuffer: Equatable, Sendable {
        public var bytes: Int
        /// Bytes per cycle into the buffer from outside the cluster.
        public var refillBytesPerCycle: Int

        public init(bytes: Int, refillBytesPerCycle: Int) {
            self.bytes = bytes
            self.refillBytesPerCycle = refillBytesPerCycle
        }
    }

    public var name: String
    public var m: Int
    public var n: Int
    public var k: Int
    public var folds: Int
    /// SCALE-Sim's "Total Cycles" without stalls.
    public var computeCycles: Cycle
    /// Loading the first fold's operands before compute can start.
    public var fillCycles: Cycle
    /// Traffic the TBU link cannot hide behind compute.
    public var bandwidthStallCycles: Cycle
    /// Operands beyond the cluster buffer that its refill cannot hide.
    public var bufferStallCycles: Cycle
    /// All stalls.
    public var stallCycles: Cycle { bandwidthStallCycles + bufferStallCycles }
    /// Bytes moved between cluster buffer and TBU SRAM.
    public var trafficBytes: UInt64
    public var utilisation: SystolicTiming.Utilisation

    /// Fill + compute + stalls.
    public var totalCycles: Cycle { fillCycles + computeCycles + stallCycles }

    /// Times `gemm` on `array`, fed from `buffer` (nil: the cluster buffer holds everything).
    public init(_ gemm: Layer.LoweredGEMM, array: PEArrayConfig, buffer: ClusterBuffer? = nil) {
        name = gemm.name
        m = gemm.m
        n = gemm.n
        k = gemm.k
        let timed = Self.components(m: gemm.m, n: gemm.n, k: gemm.k, array: array, buffer: buffer)
        folds = timed.folds
        computeCycles = timed.compute
        trafficBytes = timed.traffic
        fillCycles = timed.fill
        bandwidthStallCycles = timed.bandwidthStall
        bufferStallCycles = timed.bufferStall
        utilisation = SystolicTiming.utilisation(
            m: m, n: n, k: k, array: array, totalCycles: computeCycles + bandwidthStallCycles + bufferStallCycles)
    }

    /// ``totalCycles`` of an `m`×`n`×`k` GEMM, without the rest of the timing (no name, no
    /// utilisation): what scheduling asks for thousands of drawn shapes.
    public static func totalCycles(m: Int, n: Int, k: Int, array: PEArrayConfig, buffer: ClusterBuffer? = nil)
        -> Cycle
    {
        let timed = components(m: m, n: n, k: k, array: array, buffer: buffer)
        return timed.fill + timed.compute + timed.bandwidthStall + timed.bufferStall
    }

    /// ``totalCycles`` of every GEMM of `layer`, summed: what ``of(_:array:buffer:)`` gives,
    /// without building the GEMMs (their timings depend only on their dimensions, and a layer's
    /// are all alike: ``Layer/loweredShape``).
    public static func totalCycles(of layer: Layer, array: PEArrayConfig, buffer: ClusterBuffer? = nil) -> Cycle {
        let shape = layer.loweredShape
        guard shape.count > 0 else { return 0 }
        return Cycle(shape.count) * totalCycles(m: shape.m, n: shape.n, k: shape.k, array: array, buffer: buffer)
    }

    /// ``fillCycles`` of the first GEMM of `layer` (0 when it lowers to none).
    public static func firstFillCycles(of layer: Layer, array: PEArrayConfig, buffer: ClusterBuffer? = nil) -> Cycle {
        let shape = layer.loweredShape
        guard shape.count > 0 else { return 0 }
        return components(m: shape.m, n: shape.n, k: shape.k, array: array, buffer: buffer).fill
    }

    /// The memory model above: folds, compute, traffic, fill and stalls.
    private static func components(m: Int, n: Int, k: Int, array: PEArrayConfig, buffer: ClusterBuffer?) -> (
        folds: Int, compute: Cycle, traffic: UInt64, fill: Cycle, bandwidthStall: Cycle, bufferStall: Cycle
    ) {
        let map = SystolicTiming.mapping(m: m, n: n, k: k, dataflow: array.dataflow)
        let rowFolds = SystolicTiming.ceilDiv(map.spatialRows, array.rows)
        let columnFolds = SystolicTiming.ceilDiv(map.spatialColumns, array.columns)
        let folds = rowFolds * columnFolds
        let computeCycles = SystolicTiming.gemmCycles(m: m, n: n, k: k, array: array)

        let word = UInt64(array.wordBytes)
        let ifmap = UInt64(m) * UInt64(k) * word
        let filter = UInt64(k) * UInt64(n) * word
        let ofmap = UInt64(m) * UInt64(n) * word
        let half = UInt64(array.sramBytes / 3 / 2)
        func fetches(_ bytes: UInt64, refetchedPer times: Int) -> UInt64 {
            bytes <= half ? bytes : bytes * UInt64(times)
        }
        let traffic: UInt64
        switch array.dataflow {
        case .os: traffic = fetches(ifmap, refetchedPer: columnFolds) + fetches(filter, refetchedPer: rowFolds) + ofmap
        case .ws: traffic = filter + fetches(ifmap, refetchedPer: columnFolds) + ofmap * UInt64(2 * rowFolds - 1)
        case .is: traffic = ifmap + fetches(filter, refetchedPer: columnFolds) + ofmap * UInt64(2 * rowFolds - 1)
        }
        let bandwidth = UInt64(array.bandwidthBytesPerCycle)
        let firstFold = (ifmap + filter) / UInt64(folds)
        let fillCycles = (firstFold + bandwidth - 1) / bandwidth
        let transfer = (traffic + bandwidth - 1) / bandwidth
        let bandwidthStallCycles = transfer > fillCycles + computeCycles ? transfer - fillCycles - computeCycles : 0
        var bufferStallCycles: Cycle = 0
        if let buffer, ifmap + filter + ofmap > UInt64(buffer.bytes) {
            let refill = UInt64(buffer.refillBytesPerCycle)
            let outside = (ifmap + filter + ofmap - UInt64(buffer.bytes) + refill - 1) / refill
            let hidden = fillCycles + computeCycles + bandwidthStallCycles
            bufferStallCycles = outside > hidden ? outside - hidden : 0
        }
        return (folds, computeCycles, traffic, fillCycles, bandwidthStallCycles, bufferStallCycles)
    }

    /// Times every GEMM of `layer`.
    public static func of(_ layer: Layer, array: PEArrayConfig, buffer: ClusterBuffer? = nil) -> [LayerTiming] {
        layer.lowered.map { LayerTiming($0, array: array, buffer: buffer) }
    }
}

extension SystolicTiming {
    /// How one GEMM is divided among several PE arrays.
    public enum SplitDimension: String, Codable, CaseIterable, Sendable {
        /// Each array computes a slice of the output columns (filters), sharing the ifmap.
        case n
        /// Each array computes a slice of the output rows (pixels/tokens), sharing the weights.
        case m
    }

    /// Cycles for `parts` arrays working on one GEMM split along `dimension`: every array runs a
    /// GEMM with ⌈N/parts⌉ (or ⌈M/parts⌉) of the dimension; the slowest decides, then results are
    /// merged, costing one array drain (`R + C` cycles). Never modelled as faster than `parts` times
    /// one array, and `parts` = 1 costs exactly one array.
    public static func splitGemmCycles(
        m: Int, n: Int, k: Int, array: PEArrayConfig, parts: Int, along dimension: SplitDimension
    ) -> Cycle {
        precondition(parts >= 1, "at least one array")
        guard parts > 1 else { return gemmCycles(m: m, n: n, k: k, array: array) }
        let slice: Cycle
        switch dimension {
        case .n: slice = gemmCycles(m: m, n: ceilDiv(n, parts), k: k, array: array)
        case .m: slice = gemmCycles(m: ceilDiv(m, parts), n: n, k: k, array: array)
        }
        return slice + Cycle(array.rows + array.columns)
    }
}
