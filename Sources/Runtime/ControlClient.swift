import Foundation
import ZeroMQ

/// Sends one request to a wafer's control socket and returns the decoded reply.
public enum ControlClient {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Sends `request` (a JSON object) to `endpoint`; waits up to `timeout` seconds (nil: forever).
    public static func request(endpoint: String, _ request: [String: Any], timeout: TimeInterval?) throws -> [String:
        Any]
    {
        try Endpoints.check(endpoint, what: "--control")
        let context = try Context()
        let socket = try context.socket(.req)
        defer { socket.close() }
        try socket.connect(endpoint)
        let body = try JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])
        try socket.send(Array(body))
        var poller = Poller()
        poller.add(.socket(socket))
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while true {
            let remaining = deadline.map { max(0, Int($0.timeIntervalSinceNow * 1000)) } ?? 1000
            if !(try poller.poll(timeoutMs: remaining)).isEmpty { break }
            if let deadline, Date() >= deadline {
                throw Failure(
                    description: "no reply from \(endpoint) within \(Int(timeout!)) s (is a wafer running there?)")
            }
        }
        guard let frames = try socket.receive(), let last = frames.last,
            let reply = try JSONSerialization.jsonObject(with: Data(last)) as? [String: Any]
        else {
            throw Failure(description: "malformed reply from \(endpoint)")
        }
        return reply
    }
}

/// Sends raw request text and returns the raw reply text (for `octopus ctl send` and tests of
/// malformed requests).
public enum ControlClientRaw {
    public static func send(endpoint: String, text: String, timeout: TimeInterval) throws -> String {
        try Endpoints.check(endpoint, what: "--control")
        let context = try Context()
        let socket = try context.socket(.req)
        defer { socket.close() }
        try socket.connect(endpoint)
        try socket.send(Array(text.utf8))
        var poller = Poller()
        poller.add(.socket(socket))
        guard !(try poller.poll(timeoutMs: Int(timeout * 1000))).isEmpty, let frames = try socket.receive(),
            let last = frames.last
        else {
            throw ControlClient.Failure(description: "no reply from \(endpoint) within \(Int(timeout)) s")
        }
        return String(decoding: last, as: UTF8.self)
    }
}
