import Foundation
import Yams

/// A YAML node that remembers its file and field path, so every accessor can fail with a
/// ``ConfigError`` that names file, line and field.
public struct ConfigNode {
    let node: Node
    /// The file the node came from.
    public let file: String
    /// The dotted field path of the node (empty for the document root).
    public let path: String

    init(node: Node, file: String, path: String) {
        self.node = node
        self.file = file
        self.path = path
    }

    /// Parses YAML text. Syntax errors become ``ConfigError``s with the line libyaml reported.
    public static func parse(_ text: String, file: String) throws -> ConfigNode {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(file: file, line: nil, field: "", message: "the document is empty")
            }
            var budget = Limits.yamlNodes
            guard Self.fits(node, budget: &budget) else {
                throw ConfigError(
                    file: file, line: nil, field: "",
                    message:
                        "the document expands to more than \(Limits.yamlNodes) nodes (aliases counted each time they are used)"
                )
            }
            return ConfigNode(node: node, file: file, path: "")
        } catch let error as YamlError {
            throw ConfigError(
                file: file, line: Self.line(of: error), field: "", message: "invalid YAML: \(Self.problem(of: error))")
        }
    }

    /// Counts `node`'s expanded size against `budget`, stopping as soon as it is spent (so a
    /// document built to expand exponentially costs at most `budget` steps).
    private static func fits(_ node: Node, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .scalar, .alias: return true
        case .sequence(let sequence):
            for child in sequence where !fits(child, budget: &budget) { return false }
            return true
        case .mapping(let mapping):
            for (key, value) in mapping where !fits(key, budget: &budget) || !fits(value, budget: &budget) {
                return false
            }
            return true
        }
    }

    /// Reads a text file, with an error that says what is wrong with an unusable path: no such
    /// file, a directory, unreadable, empty, or not UTF-8. Files read are noted, with their
    /// digests, in ``InputFileLog/shared``.
    public static func readText(path: String) throws -> String {
        func failure(_ message: String) -> ConfigError {
            ConfigError(file: path, line: nil, field: "", message: message)
        }
        guard !path.isEmpty else { throw failure("an empty path names no file") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw failure("no such file")
        }
        guard !isDirectory.boolValue else { throw failure("is a directory, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
            if let type, type != .typeRegular {
                throw failure("not a regular file (a device, pipe or socket) that could be read")
            }
            throw failure("cannot read the file (permission denied?)")
        }
        guard !data.isEmpty else { throw failure("empty file") }
        guard let text = String(data: data, encoding: .utf8) else { throw failure("not UTF-8 text") }
        InputFileLog.shared.record(path: path, contents: data)
        return text
    }

    /// Reads and parses a YAML file.
    public static func load(path: String) throws -> ConfigNode {
        try parse(readText(path: path), file: path)
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicated keys \(duplicates.joined(separator: ", "))"
        default:
            return "\(error)"
        }
    }

    /// 1-based line of this node in its file.
    public var line: Int? { node.mark?.line }

    /// The node as Foundation values (dictionaries, arrays, strings, numbers), scalars typed by
    /// their resolved YAML tags, e.g. to decode a JSON object carried inside a control message.
    public var plainValue: Any { node.any }

    /// An error located at this node.
    public func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, field: path, message: message)
    }

    // MARK: Scalars

    private var scalarText: String? {
        if case .scalar(let scalar) = node { return scalar.string }
        return nil
    }

    /// The node as a string.
    public func string() throws -> String {
        guard let text = scalarText else { throw error("expected a string") }
        return text
    }

    /// The node as an integer (YAML integers; `_` separators allowed).
    public func int() throws -> Int {
        guard let text = scalarText, let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw error("expected an integer, found \(describe())")
        }
        return value
    }

    /// An integer in `range`.
    public func int(in range: ClosedRange<Int>) throws -> Int {
        let value = try int()
        guard range.contains(value) else {
            throw error("must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
        }
        return value
    }

    /// A non-negative cycle count, at most ``Limits/largestCycles``.
    public func cycles() throws -> Cycle {
        let value = try int()
        guard value >= 0 else { throw error("must not be negative, found \(value)") }
        guard Cycle(value) <= Limits.largestCycles else {
            throw error("must be at most \(Limits.largestCycles) cycles, found \(value)")
        }
        return Cycle(value)
    }

    /// A non-negative cycle count, at most `limit`.
    public func cycles(atMost limit: Cycle) throws -> Cycle {
        let value = try cycles()
        guard value <= limit else { throw error("must be at most \(limit) cycles, found \(value)") }
        return value
    }

    /// A positive, possibly fractional number of cycles (a mean interval), at most
    /// ``Limits/largestCycles``.
    public func positiveCycles() throws -> Double {
        let value = try double()
        guard value > 0 else { throw error("must be positive, found \(value)") }
        guard value <= Double(Limits.largestCycles) else {
            throw error("must be at most \(Limits.largestCycles) cycles, found \(value)")
        }
        return value
    }

    /// The node as a floating-point number.
    public func double() throws -> Double {
        guard let text = scalarText, let value = Double(text.replacingOccurrences(of: "_", with: "")), value.isFinite
        else {
            throw error("expected a number, found \(describe())")
        }
        return value
    }

    /// The node as a boolean.
    public func bool() throws -> Bool {
        guard let value = node.bool else { throw error("expected true or false, found \(describe())") }
        return value
    }

    /// The node as one of `choices` (e.g. an enum's raw values).
    public func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type) throws -> T where T.RawValue == String {
        let text = try string()
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("\(ConfigError.quoted(text)) is not one of: \(allowed)")
        }
        return value
    }

    private func describe() -> String {
        switch node {
        case .scalar(let scalar): return ConfigError.quoted(scalar.string)
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    // MARK: Collections

    /// The node as a list.
    public func sequence() throws -> [ConfigNode] {
        guard case .sequence(let sequence) = node else { throw error("expected a list, found \(describe())") }
        return sequence.enumerated().map { ConfigNode(node: $1, file: file, path: "\(path)[\($0)]") }
    }

    /// The node as a mapping whose keys must all be in `allowed`; unknown keys are errors, so typos
    /// never pass silently.
    public func mapping(allowed: [String]) throws -> ConfigMapping { try mapping(allowedKeys: allowed) }

    /// The node as a mapping whose keys the caller names (a table of user-chosen names).
    public func mapping() throws -> ConfigMapping { try mapping(allowedKeys: nil) }

    private func mapping(allowedKeys allowed: [String]?) throws -> ConfigMapping {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping, found \(describe())") }
        var entries: [(String, ConfigNode)] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw error("mapping keys must be strings") }
            let childPath = path.isEmpty ? name : "\(path).\(name)"
            if let allowed, !allowed.contains(name) {
                throw ConfigError(
                    file: file, line: key.mark?.line, field: childPath,
                    message: "unknown field (expected one of: \(allowed.joined(separator: ", ")))")
            }
            entries.append((name, ConfigNode(node: value, file: file, path: childPath)))
        }
        return ConfigMapping(owner: self, entries: entries)
    }
}

/// The fields of a YAML mapping, in file order, with located errors for missing ones.
public struct ConfigMapping {
    /// The mapping node itself (for errors about it as a whole).
    public let owner: ConfigNode
    /// Fields in file order.
    public let entries: [(String, ConfigNode)]

    /// The field `key`, or nil if absent.
    public func optional(_ key: String) -> ConfigNode? {
        entries.first { $0.0 == key }?.1
    }

    /// The field `key`; its absence is an error naming the field.
    public func required(_ key: String) throws -> ConfigNode {
        guard let node = optional(key) else {
            let field = owner.path.isEmpty ? key : "\(owner.path).\(key)"
            throw ConfigError(file: owner.file, line: owner.line, field: field, message: "missing required field")
        }
        return node
    }

    /// True when `key` is present.
    public func has(_ key: String) -> Bool { optional(key) != nil }
}
