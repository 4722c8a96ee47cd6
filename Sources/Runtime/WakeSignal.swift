import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Wakes a thread blocked in `zmq_poll` from other threads (signal sources, child-exit handlers)
/// through a pipe the poller watches, and carries the reasons.
public final class WakeSignal: @unchecked Sendable {
    /// Why the main loop was woken.
    public enum Reason: Equatable, Sendable {
        case signal(Int32)
        case childExited(cluster: Int, pid: Int32, description: String)
    }

    private let lock = NSLock()
    private var reasons: [Reason] = []
    private var fds: [Int32] = [-1, -1]
    private var signalSources: [DispatchSourceSignal] = []

    public init() throws {
        guard pipe(&fds) == 0 else {
            throw WireError(description: "pipe() failed: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
    }

    deinit {
        for source in signalSources { source.cancel() }
        close(fds[0])
        close(fds[1])
    }

    /// The descriptor to poll for readability.
    public var fileDescriptor: Int32 { fds[0] }

    /// Records `reason` and wakes the poller. Safe from any thread.
    public func notify(_ reason: Reason) {
        lock.lock()
        reasons.append(reason)
        lock.unlock()
        var byte: UInt8 = 1
        _ = write(fds[1], &byte, 1)
    }

    /// Returns and clears the pending reasons.
    public func drain() -> [Reason] {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(fds[0], &buffer, buffer.count) > 0 {}
        lock.lock()
        defer {
            reasons.removeAll()
            lock.unlock()
        }
        return reasons
    }

    /// Turns SIGINT and SIGTERM into wake-ups instead of immediate death, so the owner can shut
    /// the wafer down cleanly.
    public func catchTerminationSignals() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.notify(.signal(sig)) }
            source.resume()
            signalSources.append(source)
        }
    }
}
