import Foundation
import ZeroMQ

/// Sends one request to a wafer's control socket and returns the decoded reply.
public enum ControlClient {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Sends `request` (a JSON object) to `endpoint`; waits up to `timeout` seconds (nil: forever).
    public static func request(
        endpoint: String, _ request: [String: Any], timeout: TimeInterval?, keys: WaferKeys? = nil
    ) throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])
        let reply = try exchange(endpoint: endpoint, Array(body), timeout: timeout, keys: keys)
        guard let object = try? JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any] else {
            throw Failure(description: "malformed reply from \(endpoint)")
        }
        return object
    }

    /// One request and its reply on a fresh REQ socket. Fails at once when the wafer refuses the
    /// handshake (missing or wrong keys) instead of waiting out `timeout`.
    static func exchange(endpoint: String, _ payload: [UInt8], timeout: TimeInterval?, keys: WaferKeys?) throws
        -> [UInt8]
    {
        try Endpoints.check(endpoint, what: "--control", authenticated: keys != nil)
        let context = try Context()
        let socket = try context.socket(.req)
        defer { socket.close() }
        if let keys { try socket.makeCurveClient(serverKey: keys.coordinatorPublicKey, keys: keys.member) }
        let monitor = try socket.monitor(
            events: Socket.Event.handshakeFailed, context: context, name: "control-client-\(getpid())")
        defer { monitor.close() }
        try socket.connect(endpoint)
        try socket.send(payload)
        var poller = Poller()
        let socketIndex = poller.add(.socket(socket))
        let monitorIndex = poller.add(.socket(monitor))
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while true {
            let remaining = deadline.map { max(0, Int($0.timeIntervalSinceNow * 1000)) } ?? 1000
            let ready = try poller.poll(timeoutMs: remaining)
            if ready.contains(monitorIndex), let event = try Socket.readMonitorEvent(monitor),
                Socket.Event.isHandshakeFailure(event.event)
            {
                throw Failure(description: HandshakeRefusal.description(endpoint: endpoint, withKeys: keys != nil))
            }
            if ready.contains(socketIndex) { break }
            if let deadline, Date() >= deadline {
                throw Failure(
                    description:
                        "no reply from \(endpoint) within \(WaitText.describe(timeout!)) (is a wafer running there?)")
            }
        }
        guard let frames = try socket.receive(), let last = frames.last else {
            throw Failure(description: "malformed reply from \(endpoint)")
        }
        return last
    }
}

/// Sends raw request text and returns the raw reply text (for `octopus ctl send` and tests of
/// malformed requests).
public enum ControlClientRaw {
    public static func send(endpoint: String, text: String, timeout: TimeInterval, keys: WaferKeys? = nil) throws
        -> String
    {
        String(
            decoding: try ControlClient.exchange(endpoint: endpoint, Array(text.utf8), timeout: timeout, keys: keys),
            as: UTF8.self)
    }
}
