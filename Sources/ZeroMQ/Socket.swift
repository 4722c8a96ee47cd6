import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// A ZeroMQ socket. Not thread-safe: use it from one thread, as libzmq requires.
///
/// Messages are multipart: an array of frames, each an array of bytes.
public final class Socket {
    let handle: UnsafeMutableRawPointer
    private var closed = false
    /// Keeps the context alive while this socket exists.
    private let context: Context

    init(context: Context, type: SocketType) throws {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError.last("zmq_socket")
        }
        self.handle = handle
        self.context = context
        // Never let close block on undelivered messages: shutdown must be prompt.
        try setOption(ZMQ_LINGER, 0)
    }

    deinit { close() }

    /// Closes the socket; further use is an error. Safe to call twice.
    public func close() {
        guard !closed else { return }
        closed = true
        zmq_close(handle)
    }

    // MARK: Options

    /// Sets an integer socket option (`ZMQ_*` constant).
    public func setOption(_ option: Int32, _ value: Int32) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt \(option)")
        }
    }

    /// Refuses inbound messages larger than `bytes`: libzmq drops the connection of a peer that
    /// sends one before the application reads any of it (`ZMQ_MAXMSGSIZE`).
    public func setMaximumMessageSize(_ bytes: Int64) throws {
        var v = bytes
        guard zmq_setsockopt(handle, ZMQ_MAXMSGSIZE, &v, MemoryLayout<Int64>.size) == 0 else {
            throw ZMQError.last("zmq_setsockopt ZMQ_MAXMSGSIZE")
        }
    }

    /// Sets a byte-string socket option (routing id, subscription, CURVE keys).
    public func setOption(_ option: Int32, bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, bytes.count) }
        guard rc == 0 else { throw ZMQError.last("zmq_setsockopt \(option)") }
    }

    /// The routing identity other ROUTER sockets see for this socket.
    public func setRoutingID(_ id: String) throws { try setOption(ZMQ_ROUTING_ID, bytes: Array(id.utf8)) }

    /// Makes a ROUTER report `EHOSTUNREACH` for unknown peers instead of dropping silently.
    public func setRouterMandatory(_ on: Bool = true) throws { try setOption(ZMQ_ROUTER_MANDATORY, on ? 1 : 0) }

    /// High-water marks in messages (0 = unlimited).
    public func setHighWaterMarks(send: Int32, receive: Int32) throws {
        try setOption(ZMQ_SNDHWM, send)
        try setOption(ZMQ_RCVHWM, receive)
    }

    /// A blocking ``receive(dontWait:)`` returns nil after `milliseconds` without a message (-1: waits for ever).
    public func setReceiveTimeout(milliseconds: Int32) throws { try setOption(ZMQ_RCVTIMEO, milliseconds) }

    /// A blocking ``send(_:dontWait:)`` throws `EAGAIN` (``ZMQError/isWouldBlock``) after
    /// `milliseconds` in which the message could not be queued (-1: waits for ever).
    public func setSendTimeout(milliseconds: Int32) throws { try setOption(ZMQ_SNDTIMEO, milliseconds) }

    /// ZMTP heartbeats handled by libzmq's I/O thread: a silent peer is disconnected after `timeoutMs`.
    public func setHeartbeat(intervalMs: Int32, timeoutMs: Int32) throws {
        try setOption(ZMQ_HEARTBEAT_IVL, intervalMs)
        try setOption(ZMQ_HEARTBEAT_TIMEOUT, timeoutMs)
    }

    /// The endpoint the last `bind` resolved to (e.g. the port chosen for `tcp://127.0.0.1:*`).
    public func lastEndpoint() throws -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else {
            throw ZMQError.last("zmq_getsockopt ZMQ_LAST_ENDPOINT")
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Connections

    /// Binds to `endpoint` (`tcp://host:port`, `ipc://path`, `inproc://name`).
    public func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("bind \(endpoint)") }
    }

    /// Connects to `endpoint`; libzmq reconnects in the background as needed.
    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("connect \(endpoint)") }
    }

    // MARK: Sending and receiving

    /// Sends all frames as one multipart message. With `dontWait`, throws `EAGAIN` instead of blocking.
    /// Retries transparently when interrupted by a signal.
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws {
        precondition(!frames.isEmpty, "a ZeroMQ message has at least one frame")
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            while true {
                let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, frame.count, flags) }
                if rc >= 0 { break }
                let error = ZMQError.last("send")
                if error.isInterrupted { continue }
                throw error
            }
        }
    }

    /// Sends a single-frame message.
    public func send(_ frame: [UInt8], dontWait: Bool = false) throws { try send([frame], dontWait: dontWait) }

    /// Receives one multipart message. Blocks unless `dontWait`, in which case it returns nil when
    /// nothing is queued. Throws `EINTR` errors so callers can react to signals.
    public func receive(dontWait: Bool = false) throws -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        while true {
            let rc = zmq_msg_recv(&message, handle, dontWait ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let error = ZMQError.last("receive")
                if error.isWouldBlock && frames.isEmpty { return nil }
                if error.isInterrupted && !frames.isEmpty { continue }  // finish a started multipart
                throw error
            }
            let size = zmq_msg_size(&message)
            if size == 0 {
                frames.append([])
            } else {
                let data = zmq_msg_data(&message)!.assumingMemoryBound(to: UInt8.self)
                frames.append(Array(UnsafeBufferPointer(start: data, count: size)))
            }
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }

    // MARK: Monitoring

    /// Socket monitor event masks (`ZMQ_EVENT_*`).
    public enum Event {
        public static let connected: Int32 = ZMQ_EVENT_CONNECTED
        public static let disconnected: Int32 = ZMQ_EVENT_DISCONNECTED
        /// Any failed handshake: a security mechanism mismatch, a refused or unknown key.
        public static let handshakeFailed: Int32 =
            ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH

        /// True when `event` (as read by ``readMonitorEvent(_:)``) is a failed handshake.
        public static func isHandshakeFailure(_ event: UInt16) -> Bool { Int32(event) & handshakeFailed != 0 }
    }

    /// Starts a socket monitor for `events` (ZMQ_EVENT_* bit mask) and returns the PAIR socket on
    /// which they arrive. Read them with ``readMonitorEvent(_:)``.
    public func monitor(events: Int32, context: Context, name: String) throws -> Socket {
        let address = "inproc://monitor-\(name)"
        guard zmq_socket_monitor(handle, address, events) == 0 else {
            throw ZMQError.last("zmq_socket_monitor")
        }
        let pair = try context.socket(.pair)
        try pair.connect(address)
        return pair
    }

    /// Decodes one monitor message into its event code and endpoint, or nil if nothing is queued.
    public static func readMonitorEvent(_ monitor: Socket) throws -> (event: UInt16, endpoint: String)? {
        guard let frames = try monitor.receive(dontWait: true), frames.count >= 2, frames[0].count >= 2 else {
            return nil
        }
        let event = UInt16(frames[0][0]) | (UInt16(frames[0][1]) << 8)
        return (event, String(decoding: frames[1], as: UTF8.self))
    }
}
