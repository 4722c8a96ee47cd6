/// A problem in a configuration, workflow or workload file, located by file, line and field.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// The file the problem is in (or a label such as `<control message>`).
    public let file: String
    /// 1-based line, when known.
    public let line: Int?
    /// Dotted path of the field, e.g. `cluster.pe_array.rows`.
    public let field: String
    /// What is wrong, in words a user can act on.
    public let message: String

    public init(file: String, line: Int?, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }
}

extension ConfigError {
    /// `text` in single quotes for a message, cut to its first `limit` characters (with its
    /// length) when longer: a value quoted back can be a whole file read as one scalar.
    public static func quoted(_ text: some StringProtocol, limit: Int = 60) -> String {
        guard text.count > limit else { return "'\(text)'" }
        return "'\(text.prefix(limit))…' (\(text.count) characters)"
    }
}
