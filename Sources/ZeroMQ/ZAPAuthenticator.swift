import CZeroMQ
import Foundation

/// The ZAP handler of a context (ZeroMQ's authentication protocol, RFC 27): on a thread of its own
/// it answers the handshakes of the context's CurveZMQ servers, admitting only clients that present
/// one of `allowed` public keys, and counts and reports every refusal — including handshakes that
/// fail before ZAP is asked (a client without CURVE, a client that does not trust this server's key).
public final class ZAPAuthenticator: @unchecked Sendable {
    private let context: Context
    private let allowed: Set<[UInt8]>
    private let log: @Sendable (String) -> Void
    private let lock = NSLock()
    private var stopping = false
    private var refusals = 0
    private var admissions = 0
    private var thread: Thread?
    private let handler: Socket
    private var monitors: [(socket: Socket, name: String)] = []
    private let finished = DispatchSemaphore(value: 0)

    /// Binds the handler in `context` at once (before any server socket binds), admitting the
    /// Z85 public keys in `allowed`.
    public init(context: Context, allowed: [String], log: @escaping @Sendable (String) -> Void) throws {
        self.context = context
        self.allowed = Set(allowed.compactMap(CurveKeyPair.binary))
        self.log = log
        handler = try context.socket(.rep)
        try handler.bind("inproc://zeromq.zap.01")
    }

    /// Also counts failed handshakes on `socket` (a server socket made from the same context), which
    /// ZAP never sees. Call from the socket's thread, before `start()`.
    public func watch(_ socket: Socket, name: String) throws {
        let events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
        let monitor = try socket.monitor(events: events, context: context, name: "zap-\(name)-\(getpid())")
        monitors.append((monitor, name))
    }

    /// Starts answering.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "octopus-zap"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread and closes its sockets.
    public func stop() {
        lock.lock()
        let running = thread != nil && !stopping
        stopping = true
        lock.unlock()
        if running { finished.wait() }
    }

    deinit { stop() }

    /// Connections refused so far (a wrong key, no key, a protocol mismatch) and admitted.
    public var refused: Int {
        lock.lock()
        defer { lock.unlock() }
        return refusals
    }

    public var admitted: Int {
        lock.lock()
        defer { lock.unlock() }
        return admissions
    }

    private var shouldStop: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    private func run() {
        defer {
            for monitor in monitors { monitor.socket.close() }
            handler.close()
            finished.signal()
        }
        var poller = Poller()
        let handlerIndex = poller.add(.socket(handler))
        let monitorIndices = monitors.map { poller.add(.socket($0.socket)) }
        while !shouldStop {
            guard let ready = try? poller.poll(timeoutMs: 200) else { continue }
            if ready.contains(handlerIndex) {
                while let request = try? handler.receive(dontWait: true) { answer(request) }
            }
            for (position, index) in monitorIndices.enumerated() where ready.contains(index) {
                while let event = try? Socket.readMonitorEvent(monitors[position].socket) {
                    count(
                        refusal:
                            "a handshake on the \(monitors[position].name) socket failed (event \(event.event), \(event.endpoint)): a peer without the wafer's keys, or not speaking CURVE"
                    )
                }
            }
        }
    }

    /// One ZAP request: version, request id, domain, address, identity, mechanism, credentials.
    private func answer(_ request: [[UInt8]]) {
        guard request.count >= 6 else {
            try? handler.send([Array("1.0".utf8), [], Array("500".utf8), Array("malformed ZAP request".utf8), [], []])
            return
        }
        let id = request[1]
        let address = String(decoding: request[3], as: UTF8.self)
        let mechanism = String(decoding: request[5], as: UTF8.self)
        let key = request.count > 6 ? request[6] : []
        let ok = mechanism == "CURVE" && allowed.contains(key)
        if ok {
            lock.lock()
            admissions += 1
            lock.unlock()
        } else {
            count(refusal: "refused a \(mechanism) connection from \(address): its key is not one of this wafer's")
        }
        try? handler.send([
            Array("1.0".utf8), id, Array((ok ? "200" : "400").utf8),
            Array((ok ? "OK" : "not a key of this wafer").utf8),
            [], [],
        ])
    }

    private func count(refusal message: String) {
        lock.lock()
        refusals += 1
        lock.unlock()
        log(message)
    }
}
