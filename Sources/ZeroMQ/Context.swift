import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// A libzmq context: owns the I/O threads and every socket made from it.
///
/// Close every socket before the context is released; `deinit` terminates the context, which
/// blocks until all sockets are closed (their linger is set to 0 by ``Socket``).
public final class Context {
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreads` I/O threads (one is plenty for this project) that may
    /// hold `maxSockets` sockets at once (libzmq's default is 1,023; a socket monitor counts two)
    /// and, when `ioThreadCPUs` names any, run only on those CPUs (the threads start with the
    /// first socket; without this they take the affinity of the thread that makes it).
    public init(ioThreads: Int32 = 1, maxSockets: Int? = nil, ioThreadCPUs: [Int] = []) throws {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        zmq_ctx_set(handle, ZMQ_IO_THREADS, ioThreads)
        for cpu in ioThreadCPUs {
            guard zmq_ctx_set(handle, ZMQ_THREAD_AFFINITY_CPU_ADD, Int32(cpu)) == 0 else {
                let error = ZMQError.last("zmq_ctx_set(ZMQ_THREAD_AFFINITY_CPU_ADD, \(cpu))")
                zmq_ctx_term(handle)
                throw error
            }
        }
        if let maxSockets, maxSockets > Int(ZMQ_MAX_SOCKETS_DFLT) {
            let limit = zmq_ctx_get(handle, ZMQ_SOCKET_LIMIT)
            guard maxSockets <= Int(limit) else {
                zmq_ctx_term(handle)
                throw ZMQError(code: EINVAL, operation: "\(maxSockets) sockets in one context (libzmq allows \(limit))")
            }
            zmq_ctx_set(handle, ZMQ_MAX_SOCKETS, Int32(maxSockets))
        }
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
