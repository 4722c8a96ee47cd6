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
    struct Row: Codable, Equatable, Sendable {
        var line: Int
        var name: String
        var cells: [String]
    }

    private var rows: [Row]

    /// Reads a table file.
    public static func load(path: String) throws -> TopologyTable {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, field: "", message: "cannot read the file (does it exist?)")
        }
        return try TopologyTable(text: text, file: path)
    }

    /// Parses table text.
    public init(text: String, file: String) throws {
        self.file = file
        parameters = [:]
        rows = []
        var sawHeader = false
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") {
                let words = line.dropFirst().trimmingCharacters(in: .whitespaces)
                guard words.hasPrefix("param ") else { continue }
                let definition = words.dropFirst(6).split(separator: "#", maxSplits: 1)[0]
                let parts = definition.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, Self.isIdentifier(parts[0]), let value = Int(parts[1]) else {
                    throw ConfigError(file: file, line: index + 1, field: "param", message: "expected '# param NAME = INTEGER'")
                }
                parameters[parts[0]] = value
                continue
            }
            if line.isEmpty { continue }
            if !sawHeader { sawHeader = true; continue }
            var cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.last == "" { cells.removeLast() }
            guard let name = cells.first, !name.isEmpty else {
                throw ConfigError(file: file, line: index + 1, field: "layer name", message: "empty layer name")
            }
            guard cells.count == 4 || cells.count >= 8 else {
                throw ConfigError(file: file, line: index + 1, field: name, message: "expected 3 values (M, N, K) or 7 (H, W, FH, FW, C, filters, stride), found \(cells.count - 1)")
            }
            rows.append(Row(line: index + 1, name: name, cells: Array(cells.dropFirst().prefix(7))))
        }
        guard !rows.isEmpty else { throw ConfigError(file: file, line: nil, field: "", message: "no layers (the first line that is not a comment is the header)") }
        // Evaluate once with the defaults so mistakes surface when the file is read.
        _ = try layers()
    }

    /// The layers with `overrides` applied to the parameter defaults.
    public func layers(_ overrides: [String: Int] = [:]) throws -> [Layer] {
        for name in overrides.keys where parameters[name] == nil {
            let known = parameters.keys.sorted().joined(separator: ", ")
            throw ConfigError(file: file, line: nil, field: name, message: "unknown parameter (this table has: \(known.isEmpty ? "none" : known))")
        }
        let values = parameters.merging(overrides) { _, new in new }
        return try rows.map { row in
            let v = try row.cells.map { cell -> Int in
                let value = try Expression.evaluate(cell, values: values, file: file, line: row.line, field: row.name)
                guard value > 0 else { throw ConfigError(file: file, line: row.line, field: row.name, message: "'\(cell)' is \(value); dimensions must be positive") }
                return value
            }
            let layer: Layer = v.count == 3
                ? .gemm(name: row.name, m: v[0], n: v[1], k: v[2])
                : .conv(name: row.name, ifmapHeight: v[0], ifmapWidth: v[1], filterHeight: v[2], filterWidth: v[3],
                        channels: v[4], filters: v[5], stride: v[6], depthwise: row.name.contains("DP"))
            if let problem = layer.problem { throw ConfigError(file: file, line: row.line, field: row.name, message: problem) }
            return layer
        }
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// Integer expressions: `+ - * /` (division rounds up), parentheses, integers, parameters.
    enum Expression {
        static func evaluate(_ text: String, values: [String: Int], file: String, line: Int, field: String) throws -> Int {
            var parser = Parser(characters: Array(text), values: values)
            do {
                let value = try parser.expression()
                parser.skipSpaces()
                guard parser.position == parser.characters.count else { throw Failure(message: "unexpected '\(parser.characters[parser.position])'") }
                return value
            } catch let failure as Failure {
                throw ConfigError(file: file, line: line, field: field, message: "in '\(text)': \(failure.message)")
            }
        }

        struct Failure: Error { var message: String }

        struct Parser {
            let characters: [Character]
            let values: [String: Int]
            var position = 0

            mutating func skipSpaces() { while position < characters.count, characters[position] == " " { position += 1 } }

            mutating func expression() throws -> Int {
                var value = try term()
                while true {
                    skipSpaces()
                    guard position < characters.count, "+-".contains(characters[position]) else { return value }
                    let op = characters[position]
                    position += 1
                    let rhs = try term()
                    value = op == "+" ? value + rhs : value - rhs
                }
            }

            mutating func term() throws -> Int {
                var value = try factor()
                while true {
                    skipSpaces()
                    guard position < characters.count, "*/".contains(characters[position]) else { return value }
                    let op = characters[position]
                    position += 1
                    let rhs = try factor()
                    if op == "*" { value *= rhs } else {
                        guard rhs > 0 else { throw Failure(message: "division by \(rhs)") }
                        value = (value + rhs - 1) / rhs
                    }
                }
            }

            mutating func factor() throws -> Int {
                skipSpaces()
                guard position < characters.count else { throw Failure(message: "expression ends early") }
                let c = characters[position]
                if c == "(" {
                    position += 1
                    let value = try expression()
                    skipSpaces()
                    guard position < characters.count, characters[position] == ")" else { throw Failure(message: "missing ')'") }
                    position += 1
                    return value
                }
                let start = position
                if c.isNumber {
                    while position < characters.count, characters[position].isNumber { position += 1 }
                    return Int(String(characters[start..<position]))!
                }
                if c.isLetter || c == "_" {
                    while position < characters.count, characters[position].isLetter || characters[position].isNumber || characters[position] == "_" { position += 1 }
                    let name = String(characters[start..<position])
                    guard let value = values[name] else { throw Failure(message: "unknown parameter '\(name)'") }
                    return value
                }
                throw Failure(message: "unexpected '\(c)'")
            }
        }
    }
}
