/// A layer of an AI model as the PE array sees it: a GEMM, or a convolution that SCALE-Sim
/// lowers to one (im2col).
public enum Layer: Codable, Equatable, Sendable {
    /// `M×K` · `K×N`.
    case gemm(name: String, m: Int, n: Int, k: Int)
    /// A convolution over an `ifmapHeight × ifmapWidth × channels` input with `filters` filters of
    /// `filterHeight × filterWidth`, square stride. Depthwise convolutions run every channel as its
    /// own single-channel convolution, as SCALE-Sim does for layers whose name contains `DP`.
    case conv(
        name: String, ifmapHeight: Int, ifmapWidth: Int, filterHeight: Int, filterWidth: Int,
        channels: Int, filters: Int, stride: Int, depthwise: Bool)

    /// The layer's name.
    public var name: String {
        switch self {
        case .gemm(let name, _, _, _), .conv(let name, _, _, _, _, _, _, _, _): return name
        }
    }

    /// One GEMM as it runs on the array.
    public struct LoweredGEMM: Equatable, Sendable {
        public var name: String
        public var m: Int
        public var n: Int
        public var k: Int
    }

    /// The GEMMs the layer runs as, SCALE-Sim's way: output pixels
    /// `⌈(H − FH + S)/S⌉ · ⌈(W − FW + S)/S⌉` × filters `N` × window `FH·FW·C`; a depthwise layer is
    /// `C` GEMMs (named `<name>Channel_<i>`) with one channel each.
    public var lowered: [LoweredGEMM] {
        switch self {
        case .gemm(let name, let m, let n, let k):
            return [LoweredGEMM(name: name, m: m, n: n, k: k)]
        case .conv(let name, let h, let w, let fh, let fw, let c, let filters, let s, let depthwise):
            let oh = Self.outputSize(input: h, filter: fh, stride: s)
            let ow = Self.outputSize(input: w, filter: fw, stride: s)
            if depthwise {
                return (0..<c).map { LoweredGEMM(name: "\(name)Channel_\($0)", m: oh * ow, n: filters, k: fh * fw) }
            }
            return [LoweredGEMM(name: name, m: oh * ow, n: filters, k: fh * fw * c)]
        }
    }

    /// ``lowered`` without building it: a layer lowers to `count` GEMMs of the same dimensions —
    /// one, or a depthwise convolution's one per channel. Timing a layer needs no more (and no
    /// GEMM names: building a name per channel was a quarter of computing a library's cycle
    /// tables, which every cluster process does at start).
    public var loweredShape: (count: Int, m: Int, n: Int, k: Int) {
        switch self {
        case .gemm(_, let m, let n, let k):
            return (1, m, n, k)
        case .conv(_, let h, let w, let fh, let fw, let c, let filters, let s, let depthwise):
            let oh = Self.outputSize(input: h, filter: fh, stride: s)
            let ow = Self.outputSize(input: w, filter: fw, stride: s)
            return depthwise ? (c, oh * ow, filters, fh * fw) : (1, oh * ow, filters, fh * fw * c)
        }
    }

    /// The dimensions of the one GEMM the layer lowers to (``lowered`` has exactly one element,
    /// with these dimensions); nil for a depthwise convolution of several channels.
    public var singleGEMM: (m: Int, n: Int, k: Int)? {
        switch self {
        case .gemm(_, let m, let n, let k):
            return (m, n, k)
        case .conv(_, let h, let w, let fh, let fw, let c, let filters, let s, let depthwise):
            guard !depthwise || c == 1 else { return nil }
            let oh = Self.outputSize(input: h, filter: fh, stride: s)
            let ow = Self.outputSize(input: w, filter: fw, stride: s)
            return (oh * ow, filters, depthwise ? fh * fw : fh * fw * c)
        }
    }

    /// Checks the dimensions; returns a description of the first problem. Besides positive sizes,
    /// a layer may do at most ``Limits/layerMACs`` multiply-accumulates, so its timing never
    /// overflows and one block never spans an unbounded stretch of virtual time.
    public var problem: String? {
        switch self {
        case .gemm(_, let m, let n, let k):
            guard m > 0 && n > 0 && k > 0 else { return "GEMM dimensions must be positive (M \(m), N \(n), K \(k))" }
            return Self.macsProblem([m, n, k])
        case .conv(_, let h, let w, let fh, let fw, let c, let filters, let s, _):
            if [h, w, fh, fw, c, filters, s].contains(where: { $0 <= 0 }) {
                return "convolution dimensions must be positive"
            }
            if fh > h || fw > w { return "the \(fh)×\(fw) filter is larger than the \(h)×\(w) input" }
            // Output pixels as `lowered` counts them. A depthwise layer runs c single-channel GEMMs:
            // the same total as one GEMM with k = fh·fw·c.
            let oh = Self.outputSize(input: h, filter: fh, stride: s)
            let ow = Self.outputSize(input: w, filter: fw, stride: s)
            return Self.macsProblem([oh, ow, filters, fh, fw, c])
        }
    }

    /// Output pixels along one side, SCALE-Sim's `⌈(input − filter + stride) / stride⌉`, computed
    /// so that no stride overflows it (a stride of 2⁶² makes a valid layer, at most two pixels wide
    /// by the formula, and a file may say so). For a filter larger than its input (a layer
    /// ``problem`` rejects) it is the plain formula.
    static func outputSize(input: Int, filter: Int, stride: Int) -> Int {
        let excess = input - filter
        guard excess >= 0, stride > 0 else { return (excess + stride + stride - 1) / stride }
        return excess / stride + (excess % stride == 0 ? 1 : 2)
    }

    /// The problem with a layer whose multiply-accumulates are the product of `factors`, if any.
    static func macsProblem(_ factors: [Int]) -> String? {
        var product = 1
        for factor in factors {
            let (next, overflow) = product.multipliedReportingOverflow(by: factor)
            guard !overflow, next <= Limits.layerMACs else {
                return "the layer would do more than \(Limits.layerMACs) multiply-accumulates (2^40)"
            }
            product = next
        }
        return nil
    }
}

// Coded as a flat array — `["gemm", name, M, N, K]` or `["conv", name, H, W, FH, FW, C, filters,
// stride, depthwise]` — rather than as the synthesised nested objects: every cluster process
// decodes its wafer's workflow library at start, and decoding each layer's keyed containers was
// most of that (on a 16×16 wafer, 256 processes do it on the same cores).
extension Layer {
    public init(from decoder: any Decoder) throws {
        var fields = try decoder.unkeyedContainer()
        try self.init(flat: &fields)
    }

    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.unkeyedContainer()
        try encode(flat: &fields)
    }

    /// Reads the layer's fields, its tag first, from `fields`.
    init(flat fields: inout any UnkeyedDecodingContainer) throws {
        let tag = try fields.decode(String.self)
        try self.init(tag: tag, fields: &fields)
    }

    /// Reads the fields after `tag` ("gemm" or "conv") from `fields`.
    init(tag: String, fields: inout any UnkeyedDecodingContainer) throws {
        let name = try fields.decode(String.self)
        switch tag {
        case "gemm":
            self = .gemm(
                name: name, m: try fields.decode(Int.self), n: try fields.decode(Int.self),
                k: try fields.decode(Int.self))
        case "conv":
            self = .conv(
                name: name, ifmapHeight: try fields.decode(Int.self), ifmapWidth: try fields.decode(Int.self),
                filterHeight: try fields.decode(Int.self), filterWidth: try fields.decode(Int.self),
                channels: try fields.decode(Int.self), filters: try fields.decode(Int.self),
                stride: try fields.decode(Int.self), depthwise: try fields.decode(Bool.self))
        default:
            throw DecodingError.dataCorruptedError(
                in: fields,
                debugDescription: "a layer is [\"gemm\", name, M, N, K] or [\"conv\", name, …], not '\(tag)'")
        }
    }

    /// Writes the layer's tag and fields to `fields`.
    func encode(flat fields: inout any UnkeyedEncodingContainer) throws {
        switch self {
        case .gemm(let name, let m, let n, let k):
            try fields.encode("gemm")
            try fields.encode(name)
            for value in [m, n, k] { try fields.encode(value) }
        case .conv(let name, let h, let w, let fh, let fw, let c, let filters, let stride, let depthwise):
            try fields.encode("conv")
            try fields.encode(name)
            for value in [h, w, fh, fw, c, filters, stride] { try fields.encode(value) }
            try fields.encode(depthwise)
        }
    }
}
