import ArgumentParser
import Foundation
import Runtime

#if canImport(Glibc)
    import Glibc
#endif

struct TransportCostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport-cost",
        abstract: "Measure what one ZeroMQ message between two processes costs on this machine.",
        discussion: """
            Starts a second octopus process and bounces a message between the two over the wafer's \
            transport (DEALER sockets; ipc:// by default, --transport tcp for loopback TCP), then \
            prints the wall time of a round trip and the CPU time of one message: both processes, \
            every thread (ZeroMQ's I/O threads) and the kernel's work for them. A multi-process \
            wafer that sends m messages between its processes and waits for their answers needs at \
            least m times that CPU, shared by this machine's cores; scripts/bench prints that bound \
            beside its runs (docs/synchronisation.md, "What bounds the multi-process wafer"). Then \
            it sends --streamed messages one way back to back, without waiting for answers, and \
            prints the CPU time of one of those too: the floor of a design whose processes never \
            wait for each other. With --cpus A,B the measuring process runs on CPU A and the \
            echo process on CPU B (A,A: both on one CPU), as `octopus run` pins a wafer's processes; \
            by default the kernel places them.
            """)

    @Option(help: "ipc (Unix-domain sockets, octopus run's default) or tcp (loopback).")
    var transport: String = "ipc"
    @Option(help: "Measured round trips (after 200 to warm up).") var roundTrips: Int = 20_000
    @Option(help: "Messages then streamed one way, back to back (0: none).") var streamed: Int = 100_000
    @Option(help: "Bytes per message.") var bytes: Int = 256
    @Option(
        help: ArgumentHelp(
            "Pin the measuring process to CPU A and the echo process to CPU B (the same CPU or two).", valueName: "A,B")
    )
    var cpus: String?
    @Flag(help: "Print JSON instead of text.") var json = false
    @Option(help: .hidden) var echo: String?
    @Option(help: .hidden) var parentPid: Int32?
    @Option(help: .hidden) var echoCpu: Int?

    /// --cpus as two CPU numbers.
    func pinnedCPUs() throws -> (measuring: Int, echo: Int)? {
        guard let cpus else { return nil }
        let parts = cpus.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let measuring = parts[0], let echo = parts[1], measuring >= 0, echo >= 0 else {
            throw ValidationError("--cpus must be two CPU numbers A,B (e.g. 0,0 or 0,1), not '\(cpus)'")
        }
        let count = ProcessInfo.processInfo.processorCount
        guard measuring < count, echo < count else {
            throw ValidationError("--cpus \(cpus): this machine's CPUs are numbered 0 to \(count - 1)")
        }
        return (measuring, echo)
    }

    func validate() throws {
        guard TransportCost.Transport(rawValue: transport) != nil else {
            throw ValidationError("--transport must be ipc or tcp, not '\(transport)'")
        }
        // A round trip takes 40–400 µs: ten million are at most about an hour.
        guard (1...10_000_000).contains(roundTrips) else {
            throw ValidationError("--round-trips must be 1 to 10000000, not \(roundTrips)")
        }
        guard TransportCost.streamedCounts.contains(streamed) else {
            throw ValidationError("--streamed must be 0 to \(TransportCost.streamedCounts.upperBound), not \(streamed)")
        }
        guard TransportCost.messageSizes.contains(bytes) else {
            throw ValidationError("--bytes must be between 1 and 1048576, not \(bytes)")
        }
        _ = try pinnedCPUs()
    }

    func run() throws {
        do {
            if let echo {
                try TransportCost.echo(
                    endpoint: echo, roundTrips: roundTrips, streamed: streamed, parentPID: parentPid, cpu: echoCpu)
                return
            }
            let pinned = try pinnedCPUs()
            let result = try TransportCost.measure(
                transport: TransportCost.Transport(rawValue: transport)!, roundTrips: roundTrips, streamed: streamed,
                bytes: bytes, cpus: pinned, executable: ChildSupervisor.executablePath
            ) { endpoint in
                [
                    "transport-cost", "--echo", endpoint, "--round-trips", String(roundTrips),
                    "--streamed", String(streamed), "--parent-pid", String(getpid()),
                ] + (pinned.map { ["--echo-cpu", String($0.echo)] } ?? [])
            }
            print(json ? Self.json(result) : Self.text(result))
        } catch {
            exitReporting(error)
        }
    }

    static func text(_ r: TransportCost.Result) -> String {
        func micro(_ seconds: Double) -> String { String(format: "%.1f µs", seconds * 1e6) }
        let pinning =
            r.cpus.map {
                $0.measuring == $0.echo ? " (both on CPU \($0.measuring))" : " (on CPUs \($0.measuring) and \($0.echo))"
            } ?? ""
        var text = """
            ZeroMQ over \(r.transport.rawValue)://, two processes on \(r.cores) cores\(pinning), \(r.roundTrips) round trips of \(r.bytes) bytes:
              wall time per round trip   \(micro(r.wallPerRoundTrip))
              CPU time per message       \(micro(r.cpuPerMessage)) (both processes, every thread, the kernel's work for them)
            """
        if let perMessage = r.cpuPerStreamedMessage, let rate = r.streamedPerWallSecond {
            text += """

                then \(r.streamed) messages one way, back to back (no answer awaited):
                  CPU time per message       \(micro(perMessage)) (\(Int(rate.rounded())) messages per wall second)
                """
        }
        return text
    }

    static func json(_ r: TransportCost.Result) -> String {
        let fields: [(String, String)] =
            [
                ("transport", "\"\(r.transport.rawValue)\""), ("round_trips", "\(r.roundTrips)"),
                ("bytes", "\(r.bytes)"),
                ("cores", "\(r.cores)"), ("cpus", r.cpus.map { "[\($0.measuring), \($0.echo)]" } ?? "null"),
                ("wall_seconds", "\(r.wallSeconds)"), ("cpu_seconds", "\(r.cpuSeconds)"),
                ("wall_per_round_trip_seconds", "\(r.wallPerRoundTrip)"),
                ("cpu_per_message_seconds", "\(r.cpuPerMessage)"),
                ("streamed", "\(r.streamed)"), ("stream_wall_seconds", "\(r.streamWallSeconds)"),
                ("stream_cpu_seconds", "\(r.streamCPUSeconds)"),
            ] + (r.cpuPerStreamedMessage.map { [("cpu_per_streamed_message_seconds", "\($0)")] } ?? [])
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }
}
