import Foundation

/// Carries a run's trace windows to a trace file writer's own thread, so the run never waits for
/// rendering, compression or the disk.
///
/// Windows are handed over in batches (``batchRecords`` records, or every ``batchSeconds`` of
/// wall time): handing over each window woke that thread and wrote the file once per window,
/// which on a wafer of many short windows cost the coordinator more than the rendering. At most
/// `backlog` batches are in flight (the appender waits beyond that, so memory stays bounded).
/// ``sync(_:)`` hands over what is pending and then runs on the writer's thread, after everything
/// appended before it. The first error the writer's thread meets is kept and reported by the
/// next call.
final class TraceBatches {
    /// A batch is handed over once it holds this many records…
    static let batchRecords = 4096
    /// …or this long after the last one, so a slow run's trace file still follows it.
    static let batchSeconds = 0.2

    private let queue: DispatchQueue
    private let inFlight: DispatchSemaphore
    /// What the writer's thread does with a batch: every window in order.
    private let write: ([[[TimedTraceRecord]]]) throws -> Void
    /// Windows appended and not yet handed over (touched only by the appender).
    private var pending: [[[TimedTraceRecord]]] = []
    private var pendingRecords = 0
    private var lastHandOver = DispatchTime.now().uptimeNanoseconds
    /// The first error on the writer's thread (guarded by `failureLock`).
    private var failure: Error?
    private let failureLock = NSLock()

    /// `write` runs on a serial queue named `label`, one batch at a time.
    init(label: String, backlog: Int, write: @escaping ([[[TimedTraceRecord]]]) throws -> Void) {
        queue = DispatchQueue(label: label)
        inFlight = DispatchSemaphore(value: backlog)
        self.write = write
    }

    /// The first error met on the writer's thread, if any.
    var currentFailure: Error? {
        failureLock.lock()
        defer { failureLock.unlock() }
        return failure
    }

    /// Adds one window; hands the batch over when it is large or old enough.
    func append(_ lists: [[TimedTraceRecord]]) throws {
        if let failure = currentFailure { throw failure }
        pending.append(lists)
        for list in lists { pendingRecords += list.count }
        let now = DispatchTime.now().uptimeNanoseconds
        if pendingRecords >= Self.batchRecords || Double(now - lastHandOver) / 1e9 >= Self.batchSeconds {
            handOver()
        }
    }

    /// Hands the pending windows to the writer's thread, in order.
    func handOver() {
        guard !pending.isEmpty else { return }
        let windows = pending
        pending.removeAll(keepingCapacity: true)
        pendingRecords = 0
        lastHandOver = DispatchTime.now().uptimeNanoseconds
        inFlight.wait()
        queue.async { [self] in
            defer { inFlight.signal() }
            guard currentFailure == nil else { return }
            do { try write(windows) } catch {
                failureLock.lock()
                failure = error
                failureLock.unlock()
            }
        }
    }

    /// Runs `body` on the writer's thread once everything appended so far has been written.
    func sync<T>(_ body: () throws -> T) rethrows -> T {
        handOver()
        return try queue.sync(execute: body)
    }
}
