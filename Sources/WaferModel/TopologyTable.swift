import Foundation

/// A table of model layers (`Configs/topologies/*.csv`): SCALE-Sim's topology CSV, extended with
/// comment lines and parameters for dynamic shapes.
///
/// ```
/// # Source: … (a comment naming where the shapes come from)
/// # param seq = 128          # a parameter and its default
/// Layer, M, N, K,
/// qkv, seq, 2304, 768,
/// scores_h0, seq, seq, 64,
/// ```
/// Cells may be integer expressions over parameters with `+ - * /` (integer division rounding
/// up) and parentheses. Rows have 3 values (GEMM: M, N, K) or 7 (convolution: H, W, FH, FW, C,
/// filters, stride); names containing `DP` are depthwise. A file without comments and parameters
/// is exactly a SCALE-Sim topology.
public struct TopologyTable: Codable, Equatable, Sendable {
    public var file: String
    /// Parameters with their defaults.
    public var parameters: [String: Int]
    /// One layer row, unevaluated.
    struct Row: Equatable, Sendable {
        var line: Int
        var name: String
        var cells: [String]
        /// The cells parsed once at load, so evaluating a shape per request does not re-parse text.
        var expressions: [Expression.Node]
    }

    private(set) var rows: [Row]

    /// Reads a table file.
    public static func load(path: String) throws -> TopologyTable {
        let text = try ConfigNode.readText(path: path)
        return try TopologyTable(text: text, file: path)
    }

    /// Parses table text.
    public init(text: String, file: String) throws {
        self.file = file
        parameters = [:]
        rows = []
        var sawHeader = false
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingSpaces()
            if line.hasPrefix("#") {
                let words = line.dropFirst().trimmingSpaces()
                guard words.hasPrefix("param ") else { continue }
                let definition = words.dropFirst(6).split(separator: "#", maxSplits: 1)[0]
                let parts = definition.split(separator: "=").map { $0.trimmingSpaces() }
                guard parts.count == 2, Self.isIdentifier(parts[0]), let value = Int(parts[1]) else {
                    throw ConfigError(
                        file: file, line: index + 1, field: "param", message: "expected '# param NAME = INTEGER'")
                }
                parameters[parts[0]] = value
                continue
            }
            if line.isEmpty { continue }
            if !sawHeader {
                sawHeader = true
                continue
            }
            var cells = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingSpaces()
            }
            if cells.last == "" { cells.removeLast() }
            guard let name = cells.first, !name.isEmpty else {
                throw ConfigError(file: file, line: index + 1, field: "layer name", message: "empty layer name")
            }
            guard cells.count == 4 || cells.count >= 8 else {
                throw ConfigError(
                    file: file, line: index + 1, field: name,
                    message:
                        "expected 3 values (M, N, K) or 7 (H, W, FH, FW, C, filters, stride), found \(cells.count - 1)")
            }
            rows.append(Row(line: index + 1, name: name, cells: Array(cells.dropFirst().prefix(7)), expressions: []))
        }
        // Parameters may be declared anywhere in the file, so cells are parsed once all are known.
        let known = Set(parameters.keys)
        for index in rows.indices {
            let row = rows[index]
            rows[index].expressions = try row.cells.map {
                try Expression.parse($0, known: known, file: file, line: row.line, field: row.name)
            }
        }
        guard !rows.isEmpty else {
            throw ConfigError(
                file: file, line: nil, field: "",
                message: "no layers (the first line that is not a comment is the header)")
        }
        // Evaluate once with the defaults so mistakes surface when the file is read.
        _ = try layers()
    }

    /// The layers with `overrides` applied to the parameter defaults.
    public func layers(_ overrides: [String: Int] = [:]) throws -> [Layer] {
        for name in overrides.keys where parameters[name] == nil {
            let known = parameters.keys.sorted().joined(separator: ", ")
            throw ConfigError(
                file: file, line: nil, field: name,
                message: "unknown parameter (this table has: \(known.isEmpty ? "none" : known))")
        }
        let values = parameters.merging(overrides) { _, new in new }
        return try rows.map { try layer(of: $0, values: values) }
    }

    /// The layer of `row` with every parameter's value in `values`.
    private func layer(of row: Row, values: [String: Int]) throws -> Layer {
        let v = try zip(row.cells, row.expressions).map { cell, expression -> Int in
            let value: Int
            do {
                value = try expression.evaluate(values)
            } catch let failure as Expression.Failure {
                throw ConfigError(
                    file: file, line: row.line, field: row.name, message: "in '\(cell)': \(failure.message)")
            }
            guard value > 0 else {
                throw ConfigError(
                    file: file, line: row.line, field: row.name,
                    message: "'\(cell)' is \(value); dimensions must be positive")
            }
            return value
        }
        let layer: Layer =
            v.count == 3
            ? .gemm(name: row.name, m: v[0], n: v[1], k: v[2])
            : .conv(
                name: row.name, ifmapHeight: v[0], ifmapWidth: v[1], filterHeight: v[2], filterWidth: v[3],
                channels: v[4], filters: v[5], stride: v[6], depthwise: row.name.contains("DP"))
        if let problem = layer.problem {
            throw ConfigError(file: file, line: row.line, field: row.name, message: problem)
        }
        return layer
    }

    /// The table's rows split for repeated evaluation with `varying` parameters: the layers of
    /// rows that mention none of them (evaluated once, with `overrides`), and the other rows
    /// grouped by identical cells with their counts (a decoder's many identical attention heads
    /// become one group). Summing a layer measure over `fixed` and `count ×` each group's layer
    /// gives the same total as over ``layers(_:)``.
    public func groups(overrides: [String: Int], varying: Set<String>) throws -> Groups {
        var fixed: [Layer] = []
        var groups: [Groups.Group] = []
        var positions: [[Expression.Node]: Int] = [:]
        let all = try layers(overrides)
        for (index, row) in rows.enumerated() {
            guard row.expressions.contains(where: { $0.mentions(varying) }) else {
                fixed.append(all[index])
                continue
            }
            // The name matters to timing only through its depthwise marker.
            let key = row.expressions + [.number(row.name.contains("DP") ? 1 : 0)]
            if let position = positions[key] {
                groups[position].count += 1
            } else {
                positions[key] = groups.count
                groups.append(Groups.Group(row: index, count: 1))
            }
        }
        return Groups(fixed: fixed, varying: groups)
    }

    /// Rows of a table grouped for repeated evaluation (``groups(overrides:varying:)``).
    public struct Groups: Sendable {
        /// One group of identical rows that depend on the varying parameters.
        public struct Group: Sendable {
            /// The first row of the group.
            public var row: Int
            /// Rows in the group.
            public var count: Int
        }
        /// Layers that do not depend on the varying parameters.
        public var fixed: [Layer]
        public var varying: [Group]

        public init(fixed: [Layer], varying: [Group]) {
            self.fixed = fixed
            self.varying = varying
        }
    }

    /// The layer of row `index` with `overrides` applied to the parameter defaults (every
    /// override must name a parameter of the table, as in ``layers(_:)``).
    public func layer(row index: Int, _ overrides: [String: Int]) throws -> Layer {
        try layer(row: index, resolved: resolved(overrides))
    }

    /// Every parameter's value with `overrides` applied to the defaults (every override must name
    /// a parameter of the table), for evaluating several rows with the same values
    /// (``layer(row:resolved:)``).
    public func resolved(_ overrides: [String: Int]) throws -> [String: Int] {
        for name in overrides.keys where parameters[name] == nil {
            throw ConfigError(file: file, line: nil, field: name, message: "unknown parameter")
        }
        return parameters.merging(overrides) { _, new in new }
    }

    /// The layer of row `index` with the parameter values `values` (from ``resolved(_:)``).
    public func layer(row index: Int, resolved values: [String: Int]) throws -> Layer {
        try layer(of: rows[index], values: values)
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// Integer expressions: `+ - * /` (division rounds up), parentheses, integers, parameters.
    enum Expression {
        /// A parsed expression.
        indirect enum Node: Codable, Hashable, Sendable {
            case number(Int)
            case parameter(String)
            case add(Node, Node)
            case subtract(Node, Node)
            case multiply(Node, Node)
            /// Division rounding up.
            case divide(Node, Node)

            func evaluate(_ values: [String: Int]) throws -> Int {
                switch self {
                case .number(let n): return n
                case .parameter(let name):
                    guard let value = values[name] else { throw Failure(message: "unknown parameter '\(name)'") }
                    return value
                case .add(let a, let b):
                    return try checked(a.evaluate(values).addingReportingOverflow(b.evaluate(values)))
                case .subtract(let a, let b):
                    return try checked(a.evaluate(values).subtractingReportingOverflow(b.evaluate(values)))
                case .multiply(let a, let b):
                    return try checked(a.evaluate(values).multipliedReportingOverflow(by: b.evaluate(values)))
                case .divide(let a, let b):
                    let lhs = try a.evaluate(values)
                    let rhs = try b.evaluate(values)
                    guard rhs > 0 else { throw Failure(message: "division by \(rhs)") }
                    return try checked(lhs.addingReportingOverflow(rhs - 1)) / rhs
                }
            }

            /// True when the expression uses one of `names`.
            func mentions(_ names: Set<String>) -> Bool {
                switch self {
                case .number: return false
                case .parameter(let name): return names.contains(name)
                case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b):
                    return a.mentions(names) || b.mentions(names)
                }
            }

            /// The result of checked arithmetic, refused when it overflowed.
            private func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Int {
                guard !result.overflow else { throw Failure(message: "the value overflows 64-bit integers") }
                return result.partialValue
            }
        }

        /// Parses `text`; names must be among `known` parameters.
        static func parse(_ text: String, known: Set<String>, file: String, line: Int, field: String) throws -> Node {
            // Most cells are a number or one parameter: read those directly (what the parser
            // would return), and anything else — or anything wrong — with the parser.
            if let simple = simple(text, known: known) { return simple }
            var parser = Parser(characters: Array(text), known: known)
            do {
                let node = try parser.expression()
                parser.skipSpaces()
                guard parser.position == parser.characters.count else {
                    throw Failure(message: "unexpected '\(parser.characters[parser.position])'")
                }
                return node
            } catch let failure as Failure {
                throw ConfigError(file: file, line: line, field: field, message: "in '\(text)': \(failure.message)")
            }
        }

        /// `text` as a number of ASCII digits, or as a known parameter's ASCII name; else nil.
        private static func simple(_ text: String, known: Set<String>) -> Node? {
            let bytes = text.utf8
            guard let first = bytes.first else { return nil }
            func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
            func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte == 0x5F }
            if isDigit(first) {
                guard bytes.allSatisfy(isDigit), let value = Int(text) else { return nil }
                return .number(value)
            }
            guard isLetter(first), bytes.allSatisfy({ isLetter($0) || isDigit($0) }), known.contains(text) else {
                return nil
            }
            return .parameter(text)
        }

        struct Failure: Error { var message: String }

        struct Parser {
            let characters: [Character]
            let known: Set<String>
            var position = 0

            mutating func skipSpaces() {
                while position < characters.count, characters[position] == " " { position += 1 }
            }

            mutating func expression() throws -> Node {
                var node = try term()
                while true {
                    skipSpaces()
                    guard position < characters.count, "+-".contains(characters[position]) else { return node }
                    let op = characters[position]
                    position += 1
                    let rhs = try term()
                    node = op == "+" ? .add(node, rhs) : .subtract(node, rhs)
                }
            }

            mutating func term() throws -> Node {
                var node = try factor()
                while true {
                    skipSpaces()
                    guard position < characters.count, "*/".contains(characters[position]) else { return node }
                    let op = characters[position]
                    position += 1
                    let rhs = try factor()
                    node = op == "*" ? .multiply(node, rhs) : .divide(node, rhs)
                }
            }

            mutating func factor() throws -> Node {
                skipSpaces()
                guard position < characters.count else { throw Failure(message: "expression ends early") }
                let c = characters[position]
                if c == "(" {
                    position += 1
                    let node = try expression()
                    skipSpaces()
                    guard position < characters.count, characters[position] == ")" else {
                        throw Failure(message: "missing ')'")
                    }
                    position += 1
                    return node
                }
                let start = position
                if c.isNumber {
                    while position < characters.count, characters[position].isNumber { position += 1 }
                    guard let value = Int(String(characters[start..<position])) else {
                        throw Failure(message: "number too large")
                    }
                    return .number(value)
                }
                if c.isLetter || c == "_" {
                    while position < characters.count,
                        characters[position].isLetter || characters[position].isNumber || characters[position] == "_"
                    { position += 1 }
                    let name = String(characters[start..<position])
                    guard known.contains(name) else { throw Failure(message: "unknown parameter '\(name)'") }
                    return .parameter(name)
                }
                throw Failure(message: "unexpected '\(c)'")
            }
        }
    }
}

// Coded compactly — the rows as one text, a line per row of `line,name,cells…` (names and cells
// come from comma-separated lines, so they hold no comma or line break), the expressions parsed
// again when decoded — because every cluster process decodes its wafer's workflow library at
// start: a decoder's hundreds of attention-head rows made the parsed expression trees most of that
// message, and decoding each cell as a JSON string of its own most of the decoding time.
extension TopologyTable {
    private enum CodingKeys: String, CodingKey { case file, parameters, rows }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let file = try container.decode(String.self, forKey: .file)
        let parameters = try container.decode([String: Int].self, forKey: .parameters)
        do {
            try self.init(
                file: file, parameters: parameters, rowsText: try container.decode(String.self, forKey: .rows))
        } catch let error as Malformed {
            throw DecodingError.dataCorruptedError(forKey: .rows, in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(file, forKey: .file)
        try container.encode(parameters, forKey: .parameters)
        try container.encode(rowsText, forKey: .rows)
    }

    /// The rows as they travel in JSON: one `line,name,cells…` line per row (see
    /// ``init(file:parameters:rowsText:)``).
    public var rowsText: String {
        rows.map { ([String($0.line), $0.name] + $0.cells).joined(separator: ",") }.joined(separator: "\n")
    }

    /// The rows unevaluated: each one's line in its file, layer name and cells (see
    /// ``init(file:parameters:rows:)``).
    public var rowCells: [(line: Int, name: String, cells: [String])] { rows.map { ($0.line, $0.name, $0.cells) } }

    /// A table sent as its ``file``, ``parameters`` and ``rowsText``, parsed again; throws
    /// ``Malformed`` when the rows are not what ``rowsText`` writes or do not give valid layers.
    public init(file: String, parameters: [String: Int], rowsText text: String) throws {
        var rows: [(line: Int, name: String, cells: [String])] = []
        // Split as bytes: the separators are ASCII, and splitting the string itself walks
        // grapheme clusters, which was half of decoding a table.
        for row in text.utf8.split(separator: UInt8(ascii: "\n")) {
            let fields = row.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard fields.count == 5 || fields.count == 9, let line = Int(fields[0]) else {
                throw Malformed(description: "a layer row is 'line,name,M,N,K' or 'line,name,' and 7 conv values")
            }
            rows.append((line, fields[1], Array(fields.dropFirst(2))))
        }
        try self.init(file: file, parameters: parameters, rows: rows)
    }

    /// A table sent as its ``file``, ``parameters`` and ``rowCells``, its cells parsed again;
    /// throws ``Malformed`` when a row has neither 3 nor 7 cells, a cell is not an expression over
    /// the parameters, or the defaults do not give valid layers.
    public init(file: String, parameters: [String: Int], rows cells: [(line: Int, name: String, cells: [String])])
        throws
    {
        self.file = file
        self.parameters = parameters
        let known = Set(parameters.keys)
        rows = []
        rows.reserveCapacity(cells.count)
        for row in cells {
            guard row.cells.count == 3 || row.cells.count == 7 else {
                throw Malformed(
                    description: "layer \(row.name) has \(row.cells.count) values; a layer has 3 (GEMM) or 7 (conv)")
            }
            do {
                let expressions = try row.cells.map {
                    try Expression.parse($0, known: known, file: file, line: row.line, field: row.name)
                }
                rows.append(Row(line: row.line, name: row.name, cells: row.cells, expressions: expressions))
            } catch {
                throw Malformed(description: "\(error)")
            }
        }
        guard !rows.isEmpty else { throw Malformed(description: "a table of no layers") }
        // As when a file is read: the defaults must give valid layers.
        do { _ = try layers() } catch { throw Malformed(description: "\(error)") }
    }

    /// Rows that do not make a table (``init(file:parameters:rowsText:)``,
    /// ``init(file:parameters:rows:)``).
    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }
}
