/// Element types of tensors on task flows.
public enum DType: String, Codable, CaseIterable, Sendable {
    case int8, uint8, fp16, bf16, int32, fp32

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .int8, .uint8: return 1
        case .fp16, .bf16: return 2
        case .int32, .fp32: return 4
        }
    }
}

/// One dimension of a declared tensor shape: a number, or a name that matches any size (for
/// data-dependent sizes, e.g. the number of detected objects a join collects).
public enum Dimension: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    case fixed(Int)
    case symbol(String)

    public var description: String {
        switch self {
        case .fixed(let n): return String(n)
        case .symbol(let s): return s
        }
    }
}

/// The data a task flow carries: shape and element type.
public struct TensorSpec: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var shape: [Dimension]
    public var dtype: DType

    public init(shape: [Dimension], dtype: DType) {
        self.shape = shape
        self.dtype = dtype
    }

    /// A fully numeric shape.
    public init(_ shape: [Int], dtype: DType) {
        self.init(shape: shape.map { .fixed($0) }, dtype: dtype)
    }

    /// Elements, when every dimension is a number.
    public var elements: Int? {
        var n = 1
        for d in shape {
            guard case .fixed(let v) = d else { return nil }
            n *= v
        }
        return n
    }

    /// Bytes, when every dimension is a number.
    public var bytes: UInt64? { elements.map { UInt64($0 * dtype.size) } }

    /// True when a flow carrying `self` can feed a block that expects `expected` (named dimensions
    /// match any size).
    public func fits(_ expected: TensorSpec) -> Bool {
        guard dtype == expected.dtype, shape.count == expected.shape.count else { return false }
        for (have, want) in zip(shape, expected.shape) {
            if case .fixed(let a) = have, case .fixed(let b) = want, a != b { return false }
        }
        return true
    }

    /// One item of a for-each over the rows of this tensor: the shape without its first dimension.
    public var row: TensorSpec? {
        guard !shape.isEmpty else { return nil }
        return TensorSpec(shape: Array(shape.dropFirst()), dtype: dtype)
    }

    public var description: String { "[\(shape.map(\.description).joined(separator: ", "))] \(dtype.rawValue)" }
}
