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
            let oh = (h - fh + s + s - 1) / s
            let ow = (w - fw + s + s - 1) / s
            if depthwise {
                return (0..<c).map { LoweredGEMM(name: "\(name)Channel_\($0)", m: oh * ow, n: filters, k: fh * fw) }
            }
            return [LoweredGEMM(name: name, m: oh * ow, n: filters, k: fh * fw * c)]
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
            let oh = (h - fh + s + s - 1) / s
            let ow = (w - fw + s + s - 1) / s
            return Self.macsProblem([oh, ow, filters, fh, fw, c])
        }
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
