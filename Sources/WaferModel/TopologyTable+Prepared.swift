extension TopologyTable {
    /// Some rows of a table prepared for evaluating many values of a few parameters (a dynamic
    /// model's drawn shape): every other parameter is replaced by its value and every drawn one by
    /// its position, so evaluating a row is integer arithmetic — no names, no dictionaries.
    /// ``layer(_:inputs:)`` gives exactly the layer ``TopologyTable/layer(row:_:)`` gives with the
    /// same values, and nil exactly where it throws.
    public struct PreparedRows: Sendable {
        indirect enum Term: Sendable {
            case number(Int)
            /// The value at this position of the inputs, or the default when they are shorter.
            case input(Int, default: Int)
            case add(Term, Term)
            case subtract(Term, Term)
            case multiply(Term, Term)
            case divide(Term, Term)

            func evaluate(_ inputs: [Int]) -> Int? {
                switch self {
                case .number(let n): return n
                case .input(let index, let fallback): return index < inputs.count ? inputs[index] : fallback
                case .add(let a, let b):
                    guard let lhs = a.evaluate(inputs), let rhs = b.evaluate(inputs) else { return nil }
                    return Self.checked(lhs.addingReportingOverflow(rhs))
                case .subtract(let a, let b):
                    guard let lhs = a.evaluate(inputs), let rhs = b.evaluate(inputs) else { return nil }
                    return Self.checked(lhs.subtractingReportingOverflow(rhs))
                case .multiply(let a, let b):
                    guard let lhs = a.evaluate(inputs), let rhs = b.evaluate(inputs) else { return nil }
                    return Self.checked(lhs.multipliedReportingOverflow(by: rhs))
                case .divide(let a, let b):
                    // Rounding up, as ``Expression/Node/evaluate(_:)``.
                    guard let lhs = a.evaluate(inputs), let rhs = b.evaluate(inputs), rhs > 0,
                        let sum = Self.checked(lhs.addingReportingOverflow(rhs - 1))
                    else { return nil }
                    return sum / rhs
                }
            }

            private static func checked(_ result: (partialValue: Int, overflow: Bool)) -> Int? {
                result.overflow ? nil : result.partialValue
            }
        }

        struct Prepared: Sendable {
            var name: String
            var cells: [Term]
        }

        let rows: [Prepared]

        /// Rows prepared (in the order of ``TopologyTable/prepare(rows:fixed:inputs:)``'s `rows`).
        public var count: Int { rows.count }

        /// The layer of prepared row `index` when the inputs take `inputs` (in the order of the
        /// names they were prepared with); nil when a dimension does not evaluate to a positive
        /// integer or the layer is not one the timing model accepts.
        public func layer(_ index: Int, inputs: [Int]) -> Layer? {
            let row = rows[index]
            var values: [Int] = []
            values.reserveCapacity(row.cells.count)
            for cell in row.cells {
                guard let value = cell.evaluate(inputs), value > 0 else { return nil }
                values.append(value)
            }
            let layer: Layer =
                values.count == 3
                ? .gemm(name: row.name, m: values[0], n: values[1], k: values[2])
                : .conv(
                    name: row.name, ifmapHeight: values[0], ifmapWidth: values[1], filterHeight: values[2],
                    filterWidth: values[3], channels: values[4], filters: values[5], stride: values[6],
                    depthwise: row.name.contains("DP"))
            return layer.problem == nil ? layer : nil
        }
    }

    /// The rows at `indices` prepared for evaluating many values of the parameters `inputs`, the
    /// others taking `fixed` over their defaults. Throws, as ``layer(row:_:)`` does, when `fixed`
    /// or `inputs` names a parameter the table does not have.
    public func prepare(rows indices: [Int], fixed: [String: Int], inputs: [String]) throws -> PreparedRows {
        let values = try resolved(fixed)
        for name in inputs where parameters[name] == nil {
            throw ConfigError(file: file, line: nil, field: name, message: "unknown parameter")
        }
        var positions: [String: Int] = [:]
        for (position, name) in inputs.enumerated() { positions[name] = position }  // the last, as assignments would
        func term(_ node: Expression.Node) -> PreparedRows.Term {
            switch node {
            case .number(let n): return .number(n)
            case .parameter(let name):
                // Parsing admits only the table's parameters, so every name has a value.
                let fallback = values[name] ?? 0
                if let position = positions[name] { return .input(position, default: fallback) }
                return .number(fallback)
            case .add(let a, let b): return .add(term(a), term(b))
            case .subtract(let a, let b): return .subtract(term(a), term(b))
            case .multiply(let a, let b): return .multiply(term(a), term(b))
            case .divide(let a, let b): return .divide(term(a), term(b))
            }
        }
        return PreparedRows(
            rows: indices.map { index in
                PreparedRows.Prepared(name: rows[index].name, cells: rows[index].expressions.map(term))
            })
    }
}
