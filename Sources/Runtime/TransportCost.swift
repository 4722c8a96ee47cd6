import CProcessControl
import Foundation
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// What one ZeroMQ message between two processes of this machine costs: two real processes
/// bounce a message back and forth over the wafer's own transport (DEALER sockets, `ipc://` or
/// `tcp://` on loopback), and the CPU time of both — every thread, ZeroMQ's I/O threads and the
/// kernel's work on their behalf included — is divided by the messages.
///
/// The figure bounds what a multi-process wafer whose processes wait for each other's answers
/// can do on this machine: a run that sends `m` such messages between processes needs at least
/// `m × cpuPerMessage` of CPU, spread over the machine's cores (docs/synchronisation.md, "What
/// bounds the multi-process wafer"). Messages sent back to back, without waiting for an answer,
/// share the wake-ups of both processes and cost far less each: the second figure
/// (``Result/cpuPerStreamedMessage``), the floor of a design whose processes never wait.
public enum TransportCost {
    /// The transport measured.
    public enum Transport: String, CaseIterable, Sendable {
        case ipc, tcp
    }

    /// One measurement.
    public struct Result: Sendable {
        public var transport: Transport
        public var roundTrips: Int
        public var bytes: Int
        public var wallSeconds: Double
        /// CPU time of both processes over the measured round trips (user + system, all threads).
        public var cpuSeconds: Double
        public var cores: Int
        /// The CPUs the measuring and the echo process were pinned to (nil: not pinned).
        public var cpus: (measuring: Int, echo: Int)?
        /// Messages then sent one way back to back, without waiting for answers (0: not measured).
        public var streamed: Int = 0
        /// Wall time from the first streamed message sent to the last one received.
        public var streamWallSeconds: Double = 0
        /// CPU time of both processes over the streamed messages (user + system, all threads).
        public var streamCPUSeconds: Double = 0

        /// Wall time of one round trip (a message each way).
        public var wallPerRoundTrip: Double { wallSeconds / Double(roundTrips) }
        /// CPU time of one message sent by one process and received by the other.
        public var cpuPerMessage: Double { cpuSeconds / Double(2 * roundTrips) }
        /// CPU time of one message sent back to back with others (nil when none were).
        public var cpuPerStreamedMessage: Double? { streamed > 0 ? streamCPUSeconds / Double(streamed) : nil }
        /// Streamed messages per wall second (nil when none were).
        public var streamedPerWallSecond: Double? {
            streamed > 0 && streamWallSeconds > 0 ? Double(streamed) / streamWallSeconds : nil
        }
    }

    /// Wrong arguments or an echo process that failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The message sizes measured (up to 1 MiB).
    public static let messageSizes = 1...(1 << 20)

    /// How many messages may be streamed (at a few µs each, ten million take under a minute).
    public static let streamedCounts = 0...10_000_000

    /// Round trips before the measured ones (connection set-up, first allocations, page faults).
    static let warmUp = 200

    /// Measures `roundTrips` round trips of `bytes`-byte messages, then `streamed` messages sent
    /// one way back to back, with an echo process started from `executable` with
    /// `echoArguments(endpoint)` (it must call ``echo(endpoint:roundTrips:streamed:parentPID:cpu:)``
    /// with the same counts, and the echo CPU of `cpus`). With `cpus`, this side runs on the first
    /// CPU (its ZeroMQ I/O thread too) and the echo process on the second — the same CPU for
    /// both, or two — as `octopus run` pins a wafer's processes (``CoreLayout``).
    public static func measure(
        transport: Transport, roundTrips: Int, streamed: Int = 0, bytes: Int, cpus: (measuring: Int, echo: Int)? = nil,
        executable: String, echoArguments: (_ endpoint: String) -> [String]
    ) throws -> Result {
        guard roundTrips > 0 else { throw Failure(description: "round trips must be at least 1, not \(roundTrips)") }
        guard streamedCounts.contains(streamed) else {
            throw Failure(description: "streamed messages must be 0 to \(streamedCounts.upperBound), not \(streamed)")
        }
        guard messageSizes.contains(bytes) else {
            throw Failure(description: "a message must have 1 to \(messageSizes.upperBound) bytes, not \(bytes)")
        }
        let directory = transport == .ipc ? try RunDirectories.make() : nil
        defer { if let directory { try? FileManager.default.removeItem(atPath: directory) } }
        let allowed = CPUAffinity.allowed()
        if let cpus, !CPUAffinity.pinCurrentThread(to: [cpus.measuring]) {
            throw Failure(
                description:
                    "cannot run on CPU \(cpus.measuring) (this process may use \(CPUAffinity.describe(allowed)))")
        }
        defer { if cpus != nil { CPUAffinity.pinCurrentThread(to: allowed) } }
        let context = try Context(ioThreadCPUs: cpus.map { [$0.measuring] } ?? [])
        let socket = try context.socket(.dealer)
        defer { socket.close() }
        try socket.bind(directory.map { "ipc://\($0)/echo" } ?? "tcp://127.0.0.1:*")
        let endpoint = try socket.lastEndpoint()

        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = echoArguments(endpoint)
        child.standardInput = FileHandle.nullDevice
        try child.run()
        // Whatever happens below, the echo process does not outlive this call.
        defer {
            if child.isRunning { kill(child.processIdentifier, SIGKILL) }
            child.waitUntilExit()
        }
        // Nothing comes back from an echo process that died: wait in slices, not for ever.
        try socket.setReceiveTimeout(milliseconds: 200)
        func reply() throws -> [UInt8] {
            while true {
                if let message = try socket.receive() {
                    guard message.count == 1 else {
                        throw Failure(description: "the echo process sent a multipart message")
                    }
                    return message[0]
                }
                guard child.isRunning else {
                    throw Failure(
                        description: "the echo process ended (status \(child.terminationStatus)) mid-measurement")
                }
            }
        }
        let payload = [UInt8](repeating: 0x5A, count: bytes)
        func roundTrip() throws {
            try socket.send(payload)
            guard try reply().count == bytes else {
                throw Failure(description: "the echo process answered with a message of another size")
            }
        }
        for _ in 0..<warmUp { try roundTrip() }
        let cpuBefore = processCPUSeconds()
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<roundTrips { try roundTrip() }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpu = processCPUSeconds() - cpuBefore
        // The echo process's own CPU over the same round trips comes as its last message.
        try socket.send(Array("cpu?".utf8))
        let report = try reply()
        var result = Result(
            transport: transport, roundTrips: roundTrips, bytes: bytes, wallSeconds: wall,
            cpuSeconds: cpu + (try cpuSeconds(in: report)), cores: ProcessInfo.processInfo.activeProcessorCount)
        result.cpus = cpus
        guard streamed > 0 else { return result }
        // Back to back: sends block only while ZeroMQ's queue is full (at its high-water mark),
        // in slices, so that an echo process that died cannot hold them up for ever; the echo
        // answers once, with its CPU time, when the last message is in.
        try socket.setSendTimeout(milliseconds: 200)
        let streamCPUBefore = processCPUSeconds()
        let streamStart = DispatchTime.now().uptimeNanoseconds
        var sent = 0
        while sent < streamed {
            do {
                try socket.send(payload)
                sent += 1
            } catch let error as ZMQError where error.isWouldBlock {
                guard child.isRunning else {
                    throw Failure(
                        description: "the echo process ended (status \(child.terminationStatus)) mid-measurement")
                }
            }
        }
        let received = try reply()
        result.streamWallSeconds = Double(DispatchTime.now().uptimeNanoseconds - streamStart) / 1e9
        result.streamCPUSeconds = processCPUSeconds() - streamCPUBefore + (try cpuSeconds(in: received))
        result.streamed = streamed
        try socket.send(Array("bye".utf8))
        return result
    }

    /// The CPU seconds an echo process reported (a `Double`'s bits, native byte order).
    private static func cpuSeconds(in report: [UInt8]) throws -> Double {
        guard report.count == 8 else {
            throw Failure(description: "the echo process reported its CPU time in a malformed message")
        }
        return Double(bitPattern: report.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    }

    /// The echo side: connects to `endpoint`, returns `warmUp + roundTrips` messages unchanged,
    /// then answers the next message with its CPU seconds over the measured ones (a `Double`'s
    /// bits, native byte order: both ends are one machine); then receives `streamed` messages and
    /// answers the last with its CPU seconds since the previous answer. Dies with `parentPID`;
    /// runs on `cpu` only when given.
    public static func echo(endpoint: String, roundTrips: Int, streamed: Int = 0, parentPID: Int32?, cpu: Int? = nil)
        throws
    {
        if let parentPID {
            _ = octopus_set_parent_death_signal(SIGKILL)
            // The parent may have died before the line above.
            guard getppid() == parentPID else { return }
        }
        // Before the context, so that ZeroMQ's I/O thread shares the CPU.
        if let cpu, !CPUAffinity.pinCurrentThread(to: [cpu]) {
            throw Failure(description: "the echo process cannot run on CPU \(cpu)")
        }
        let context = try Context()
        let socket = try context.socket(.dealer)
        defer { socket.close() }
        try socket.connect(endpoint)
        var cpuBefore = 0.0
        for index in 0..<(warmUp + roundTrips) {
            if index == warmUp { cpuBefore = processCPUSeconds() }
            guard let message = try socket.receive() else { continue }
            try socket.send(message)
        }
        let cpu = processCPUSeconds() - cpuBefore
        _ = try socket.receive()
        try socket.send(withUnsafeBytes(of: cpu.bitPattern) { Array($0) })
        guard streamed > 0 else { return }
        let streamCPUBefore = processCPUSeconds()
        var received = 0
        while received < streamed {
            if try socket.receive() != nil { received += 1 }
        }
        let streamCPU = processCPUSeconds() - streamCPUBefore
        try socket.send(withUnsafeBytes(of: streamCPU.bitPattern) { Array($0) })
        // Stay until the measuring side has the answer (it says so): closing the socket at once
        // could drop the answer still queued.
        while try socket.receive() == nil {}
    }

    /// User and system CPU time of this process so far, every thread counted.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
