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
/// The figure bounds what any multi-process wafer can do on this machine, whatever its
/// synchronisation: a run that sends `m` messages between processes needs at least `m ×
/// cpuPerMessage` of CPU, spread over the machine's cores (docs/synchronisation.md, "What
/// bounds the multi-process wafer").
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

        /// Wall time of one round trip (a message each way).
        public var wallPerRoundTrip: Double { wallSeconds / Double(roundTrips) }
        /// CPU time of one message sent by one process and received by the other.
        public var cpuPerMessage: Double { cpuSeconds / Double(2 * roundTrips) }
    }

    /// Wrong arguments or an echo process that failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The message sizes measured (up to 1 MiB).
    public static let messageSizes = 1...(1 << 20)

    /// Round trips before the measured ones (connection set-up, first allocations, page faults).
    static let warmUp = 200

    /// Measures `roundTrips` round trips of `bytes`-byte messages with an echo process started
    /// from `executable` with `echoArguments(endpoint)` (it must call ``echo(endpoint:roundTrips:parentPID:)``).
    public static func measure(
        transport: Transport, roundTrips: Int, bytes: Int, executable: String,
        echoArguments: (_ endpoint: String) -> [String]
    ) throws -> Result {
        guard roundTrips > 0 else { throw Failure(description: "round trips must be at least 1, not \(roundTrips)") }
        guard messageSizes.contains(bytes) else {
            throw Failure(description: "a message must have 1 to \(messageSizes.upperBound) bytes, not \(bytes)")
        }
        let directory = transport == .ipc ? try RunDirectories.make() : nil
        defer { if let directory { try? FileManager.default.removeItem(atPath: directory) } }
        let context = try Context()
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
        guard report.count == 8 else {
            throw Failure(description: "the echo process reported its CPU time in a malformed message")
        }
        let echoCPU = Double(bitPattern: report.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        return Result(
            transport: transport, roundTrips: roundTrips, bytes: bytes, wallSeconds: wall, cpuSeconds: cpu + echoCPU,
            cores: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// The echo side: connects to `endpoint`, returns `warmUp + roundTrips` messages unchanged,
    /// then answers the next message with its CPU seconds over the measured ones (a `Double`'s
    /// bits, native byte order: both ends are one machine). Dies with `parentPID`.
    public static func echo(endpoint: String, roundTrips: Int, parentPID: Int32?) throws {
        if let parentPID {
            _ = octopus_set_parent_death_signal(SIGKILL)
            // The parent may have died before the line above.
            guard getppid() == parentPID else { return }
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
    }

    /// User and system CPU time of this process so far, every thread counted.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
