import CZeroMQ

/// A libzmq context: owns the I/O threads and every socket made from it.
///
/// Close every socket before the context is released; `deinit` terminates the context, which
/// blocks until all sockets are closed (their linger is set to 0 by ``Socket``).
public final class Context {
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreads` I/O threads (one is plenty for this project).
    public init(ioThreads: Int32 = 1) throws {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
        self.handle = handle
    }

    deinit {
        zmq_ctx_term(handle)
    }

    /// Makes a socket of `type` owned by this context.
    public func socket(_ type: SocketType) throws -> Socket {
        try Socket(context: self, type: type)
    }

    /// The version of the linked libzmq, e.g. (4, 3, 4).
    public static var version: (major: Int32, minor: Int32, patch: Int32) {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (major, minor, patch)
    }
}
