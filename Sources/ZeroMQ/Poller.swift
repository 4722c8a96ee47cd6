import CZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// Waits on several sockets and file descriptors at once (`zmq_poll`), so idle processes block
/// in the kernel instead of spinning.
public struct Poller {
    /// What one poll item watches.
    public enum Item {
        case socket(Socket)
        case fileDescriptor(Int32)
    }

    private var items: [zmq_pollitem_t] = []
    private var sockets: [Socket?] = []  // keeps sockets alive while registered

    public init() {}

    /// Registers `item` for readability and returns its index in the poll result.
    @discardableResult
    public mutating func add(_ item: Item) -> Int {
        var entry = zmq_pollitem_t()
        switch item {
        case .socket(let socket):
            entry.socket = socket.handle
            sockets.append(socket)
        case .fileDescriptor(let fd):
            entry.fd = fd
            sockets.append(nil)
        }
        entry.events = Int16(ZMQ_POLLIN)
        items.append(entry)
        return items.count - 1
    }

    /// Blocks until at least one item is readable or `timeoutMs` passes (-1 waits forever).
    /// Returns the indices of readable items; an interruption by a signal returns an empty set,
    /// so the caller can check its signal flags.
    public mutating func poll(timeoutMs: Int) throws -> Set<Int> {
        let count = Int32(items.count)
        let rc = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, count, timeoutMs) }
        if rc < 0 {
            let error = ZMQError.last("zmq_poll")
            if error.isInterrupted { return [] }
            throw error
        }
        var ready = Set<Int>()
        for (index, item) in items.enumerated() where item.revents & Int16(ZMQ_POLLIN) != 0 {
            ready.insert(index)
        }
        return ready
    }
}
