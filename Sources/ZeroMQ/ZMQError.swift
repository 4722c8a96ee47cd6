import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// An error reported by libzmq, with the operation that failed and libzmq's own description.
public struct ZMQError: Error, CustomStringConvertible, Equatable {
    /// The `errno` value libzmq reported.
    public let code: Int32
    /// What the wrapper was doing, e.g. `bind tcp://127.0.0.1:5570`.
    public let operation: String

    /// Captures `zmq_errno()` for `operation`.
    public static func last(_ operation: String) -> ZMQError {
        ZMQError(code: zmq_errno(), operation: operation)
    }

    /// True when the call was interrupted by a signal (the caller decides whether to retry).
    public var isInterrupted: Bool { code == EINTR }
    /// True when a non-blocking call found nothing to do.
    public var isWouldBlock: Bool { code == EAGAIN }
    /// True when a ROUTER socket with `routerMandatory` addressed a peer that is not connected.
    public var isHostUnreachable: Bool { code == EHOSTUNREACH }

    public var description: String {
        "\(operation): \(String(cString: zmq_strerror(code)))"
    }
}
