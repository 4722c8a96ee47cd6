/// A materialised tensor of functional mode: row-major `Float` values with a shape. Whatever the
/// declared dtype of the flow, functional kernels compute in fp32; the declared dtype sizes the flow
/// in timing.
public struct Tensor: Codable, Equatable, Sendable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, values: Array(repeating: 0, count: shape.reduce(1, *)))
    }

    /// Elements in the last dimension (1 for a scalar).
    public var columns: Int { shape.last ?? 1 }

    /// Rows when viewed as a matrix `[elements / columns, columns]`.
    public var rows: Int { columns == 0 ? 0 : values.count / columns }

    /// Row `index` of the matrix view.
    public func row(_ index: Int) -> ArraySlice<Float> { values[(index * columns)..<((index + 1) * columns)] }

    /// Row `index` as a tensor of one dimension fewer (an item of a for-each).
    public func item(_ index: Int) -> Tensor {
        Tensor(shape: shape.count > 1 ? Array(shape.dropFirst()) : [1], values: Array(row(index)))
    }

    /// Tensors of equal shape stacked along a new first dimension (the output of a join).
    public static func stack(_ items: [Tensor]) -> Tensor {
        guard let first = items.first else { return Tensor(shape: [0], values: []) }
        var values: [Float] = []
        values.reserveCapacity(first.values.count * items.count)
        for item in items { values += item.values }
        // Items of different shapes (not produced by one block) are concatenated flat.
        guard items.allSatisfy({ $0.shape == first.shape }) else {
            return Tensor(shape: [values.count], values: values)
        }
        return Tensor(shape: [items.count] + first.shape, values: values)
    }
}

/// A condition on a block's input data, evaluated by control blocks in functional mode.
public enum TensorPredicate: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The index of the largest value of the last row is one of these (a class, an end-of-sequence token).
    case argmaxIn([Int])
    /// The largest value exceeds the threshold (e.g. a confidence).
    case maxAbove(Double)
    /// The largest value is below the threshold (e.g. low confidence).
    case maxBelow(Double)
    /// Some row has `column` above the threshold.
    case anyRowAbove(column: Int, threshold: Double)
    /// Some row has `column` below the threshold (e.g. an obstacle nearer than a distance).
    case anyRowBelow(column: Int, threshold: Double)

    /// Evaluates the predicate on `tensor`.
    public func holds(for tensor: Tensor) -> Bool {
        switch self {
        case .argmaxIn(let classes):
            guard tensor.rows > 0 else { return false }
            let last = tensor.row(tensor.rows - 1)
            guard let best = last.indices.max(by: { last[$0] < last[$1] }) else { return false }
            return classes.contains(best - last.startIndex)
        case .maxAbove(let t): return (tensor.values.max() ?? -.infinity) > Float(t)
        case .maxBelow(let t): return (tensor.values.max() ?? -.infinity) < Float(t)
        case .anyRowAbove(let column, let t):
            return (0..<tensor.rows).contains {
                column < tensor.columns && tensor.values[$0 * tensor.columns + column] > Float(t)
            }
        case .anyRowBelow(let column, let t):
            return (0..<tensor.rows).contains {
                column < tensor.columns && tensor.values[$0 * tensor.columns + column] < Float(t)
            }
        }
    }

    public var description: String {
        switch self {
        case .argmaxIn(let c): return "argmax in \(c)"
        case .maxAbove(let t): return "max > \(t)"
        case .maxBelow(let t): return "max < \(t)"
        case .anyRowAbove(let c, let t): return "some row[\(c)] > \(t)"
        case .anyRowBelow(let c, let t): return "some row[\(c)] < \(t)"
        }
    }
}

/// How a for-each counts its items on real data in functional mode.
public enum TensorCount: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Every row of the input.
    case rows
    /// Rows whose `column` exceeds the threshold (e.g. detections above a score).
    case rowsWhere(column: Int, above: Double)

    /// The indices of the rows that become items.
    public func items(of tensor: Tensor) -> [Int] {
        switch self {
        case .rows: return Array(0..<tensor.rows)
        case .rowsWhere(let column, let t):
            guard column < tensor.columns else { return [] }
            return (0..<tensor.rows).filter { tensor.values[$0 * tensor.columns + column] > Float(t) }
        }
    }

    public var description: String {
        switch self {
        case .rows: return "rows"
        case .rowsWhere(let c, let t): return "rows with [\(c)] > \(t)"
        }
    }
}
