import Emulation
import Foundation
import WaferModel

/// The control socket's JSON protocol: one JSON object per request, one per reply.
///
/// Requests: `{"cmd": "inject", "workflow": NAME, "count": N, "arrival": {...}, "seed": S,
/// "start_cycle": T, "definition": {…}}` (the definition, optional, is a workflow graph as JSON that
/// must equal the one the wafer runs), `{"cmd": "status"}`, `{"cmd": "drain"}`, `{"cmd": "stop"}`,
/// `{"cmd": "trace", "path": NAME}` (a file name inside the run's output directory). Replies carry `"ok": true` and the result, or
/// `"ok": false` and an `"error"` that names the offending field.
public enum ControlProtocol {
    /// A parsed request.
    public enum Request {
        case inject(ConfigNode)
        case status
        case drain
        case stop
        case trace(path: String?)
    }

    /// The commands, for help texts and error messages.
    public static let commands = ["inject", "status", "drain", "stop", "trace"]

    /// Parses one request; a malformed one throws a ``ConfigError`` naming the field.
    public static func parse(_ bytes: [UInt8]) throws -> Request {
        let label = "<control message>"
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw ConfigError(file: label, line: nil, field: "", message: "not UTF-8 text")
        }
        guard text.trimmingSpacesAndNewlines().hasPrefix("{") else {
            throw ConfigError(
                file: label, line: nil, field: "", message: "expected a JSON object such as {\"cmd\": \"status\"}")
        }
        let node = try ConfigNode.parse(text, file: label)
        let top = try node.mapping(allowed: ["cmd"] + Injection.fields + ["path", "definition"])
        let cmdNode = try top.required("cmd")
        let cmd = try cmdNode.string()
        func only(_ allowed: [String]) throws {
            for (key, value) in top.entries where key != "cmd" && !allowed.contains(key) {
                throw value.error("'\(cmd)' takes no field '\(key)'")
            }
        }
        switch cmd {
        case "inject":
            try only(Injection.fields + ["definition"])
            return .inject(node)
        case "status":
            try only([])
            return .status
        case "drain":
            try only([])
            return .drain
        case "stop":
            try only([])
            return .stop
        case "trace":
            try only(["path"])
            return .trace(path: try top.optional("path")?.string())
        default:
            throw cmdNode.error("unknown command '\(cmd)' (known: \(commands.joined(separator: ", ")))")
        }
    }

    /// Checks a trace snapshot's name: a plain file name ending in `extension` (the trace's own:
    /// `.json` or `.pftrace`), written inside the run's output directory — never a path, and never
    /// the run's own `trace.json`, `trace.pftrace` or `summary.json`. Nil stays nil (the default name).
    public static func snapshotName(_ name: String?, extension: String = ".json") throws -> String? {
        guard let name else { return nil }
        let label = "<control message>"
        guard !name.contains("/"), !name.hasPrefix("."), name.hasSuffix(`extension`), name.count <= 255,
            !name.contains("\0")
        else {
            throw ConfigError(
                file: label, line: nil, field: "path",
                message:
                    "a snapshot is written inside the run's output directory: give a file name ending in \(`extension`) (no '/', not starting with '.')"
            )
        }
        // Every file the run writes (the tables too: wafer.json is written at the end, and would
        // silently replace a snapshot of that name).
        guard !RunFiles.names.contains(name) else {
            throw ConfigError(file: label, line: nil, field: "path", message: "'\(name)' is the run's own output")
        }
        return name
    }

    /// Encodes a reply object as compact JSON with sorted keys.
    public static func encode(_ reply: [String: Any]) -> [UInt8] {
        guard let data = try? JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys]) else {
            return Array("{\"ok\":false,\"error\":\"internal: reply not encodable\"}".utf8)
        }
        return Array(data)
    }

    /// An error reply.
    public static func error(_ message: String) -> [String: Any] { ["ok": false, "error": message] }
}
