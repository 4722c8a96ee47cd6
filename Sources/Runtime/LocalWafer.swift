import Emulation
import Foundation
import Scheduling
import WaferModel

#if canImport(Glibc)
    import Glibc
#endif

/// `octopus run`: a whole wafer on this machine — the coordinator in this process and one child
/// process per cluster (or per ``Options/clustersPerProcess`` clusters) — torn down cleanly on completion, on SIGINT/SIGTERM, and when any child
/// dies. With `singleProcess`, the same state machines run in one event loop without sockets
/// (the oracle the multi-process run must equal).
public enum LocalWafer {
    public enum Transport: String, CaseIterable, Sendable {
        case ipc, tcp
    }

    public struct Options {
        public var config: WaferConfig
        public var library: WorkflowLibrary
        public var injections: [Injection]
        public var outputDirectory: String
        /// The command line that started the run, for the summary (nil: not from a command line).
        public var commandLine: [String]?
        /// The log of the files the run was read from, listed in the summary when it is written
        /// (``InputFileLog/shared`` from the command line; nil: not listed).
        public var inputs: InputFileLog?
        public var transport: Transport = .ipc
        /// Control endpoint; a private ipc:// endpoint when nil.
        public var control: String?
        /// The scheduler the wafer runs.
        public var scheduler: Scheduler = .octopus
        public var singleProcess = false
        /// Clusters hosted by each cluster process (consecutive ids, never two hosts): 1 is one
        /// process per cluster. Results are the same either way.
        public var clustersPerProcess = 1
        /// When to pin every process of the wafer to one CPU (``CoreLayout``): the coordinator
        /// and the first cluster process share the CPU this process runs on, the other cluster
        /// processes take the allowed CPUs in turn. Never for clusters on other hosts, nor in
        /// one process.
        public var cpuPinning = CPUPinning.automatic
        /// Functional mode: real tensors through these kernels, decisions on the data (nil: timing mode).
        public var functional: FunctionalKernels?
        /// Clusters on other hosts: which host runs which cluster (nil: all on this machine).
        public var placement: HostPlacement?
        /// How a cluster is started on its host: a shell template with `{host}`, `{command}`, `{id}`.
        public var launch = "ssh {host} {command}"
        /// The coordinator's cluster endpoint, reachable from every host (with `placement`).
        public var listen: String?
        /// The octopus executable on the other hosts (default: this one's path).
        public var remoteExecutable: String?
        /// CurveZMQ keys (required with `placement`): the same directory on every host.
        public var keys: WaferKeys?
        /// A progress line for a terminal (nil: none).
        public var progress: ProgressLine?
        /// Virtual µs per wall µs (nil: as fast as possible).
        public var pace: Double?
        /// The trace's format (trace.json or trace.pftrace).
        public var traceFormat = TraceFormat.json
        public var log: (String) -> Void = { FileHandle.standardError.write(Data(("octopus: " + $0 + "\n").utf8)) }

        public init(config: WaferConfig, library: WorkflowLibrary, injections: [Injection], outputDirectory: String) {
            self.config = config
            self.library = library
            self.injections = injections
            self.outputDirectory = outputDirectory
        }

        /// Throws when a run across hosts lacks what it needs (keys, an address every host can
        /// reach, a usable launch template), so `run` can say so before it announces the run.
        public func checkHosts() throws {
            guard placement != nil else { return }
            guard keys != nil else {
                throw LaunchTemplate.Invalid(
                    description: "--hosts needs --keys DIR: connections between hosts are authenticated")
            }
            guard listen != nil else {
                throw LaunchTemplate.Invalid(
                    description:
                        "--hosts needs --listen tcp://ADDR:PORT, an address of this machine every host can reach")
            }
            try LaunchTemplate.check(launch)
        }
    }

    /// Runs the wafer to completion and returns its summary (also written to the output directory)
    /// after ``Options/checkHosts()``.
    public static func run(_ options: Options) throws -> RunSummary {
        let wake = try WakeSignal()
        wake.catchTerminationSignals()
        if options.singleProcess { return try runInProcess(options, wake: wake) }

        RunDirectories.removeStale()
        let directory = try RunDirectories.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        try options.checkHosts()
        if let placement = options.placement {
            for line in placement.description { options.log("placement: " + line) }
        }
        let listen =
            options.listen ?? (options.transport == .ipc ? "ipc://\(directory)/coordinator" : "tcp://127.0.0.1:*")
        var serverOptions = CoordinatorServer.Options(
            config: options.config, library: options.library, listen: listen,
            control: options.control ?? "ipc://\(directory)/control", outputDirectory: options.outputDirectory)
        serverOptions.keys = options.keys
        serverOptions.commandLine = options.commandLine
        serverOptions.inputs = options.inputs
        serverOptions.scheduler = options.scheduler
        serverOptions.exitWhenIdle = true
        serverOptions.functional = options.functional
        serverOptions.log = options.log
        serverOptions.progress = options.progress
        serverOptions.pace = options.pace
        serverOptions.traceFormat = options.traceFormat
        let groups = ClusterGroups.partition(
            clusters: options.config.clusterCount, perProcess: options.clustersPerProcess,
            host: { options.placement?.hosts[$0] ?? "" })
        // The coordinator's ZeroMQ I/O thread is pinned as it starts; this thread once the
        // cluster processes are started (they would inherit its CPU until they pin themselves),
        // so that the trace writers' threads, started from it during the run, share its CPU.
        let allowed = CPUAffinity.allowed()
        let layout =
            options.placement == nil && options.cpuPinning.pins(clusterProcesses: groups.count, cpus: allowed.count)
            ? CoreLayout(cpus: allowed, startingAt: CPUAffinity.current(), clusterProcesses: groups.count) : nil
        if let layout {
            serverOptions.cpus = RunSummary.Host.CPUs(
                coordinator: layout.coordinator,
                clusters: zip(groups, layout.clusterProcesses).flatMap { group, cpu in group.map { _ in cpu } })
        }
        defer { if layout != nil { CPUAffinity.pinCurrentThread(to: allowed) } }
        let server = try CoordinatorServer(options: serverOptions, wake: wake)
        let supervisor = ChildSupervisor(wake: wake)
        do {
            for (index, group) in groups.enumerated() {
                let count = group.count > 1 ? ["--count", "\(group.count)"] : []
                if let placement = options.placement, let keys = options.keys {
                    // On another host: through the launch template; that host's cluster exits when it
                    // loses the coordinator (heartbeats), and its local launcher is stopped here.
                    let host = placement.hosts[group.lowerBound]
                    let arguments =
                        [
                            options.remoteExecutable ?? ChildSupervisor.executablePath, "cluster", "--coordinator",
                            server.listenEndpoint, "--id", "\(group.lowerBound)", "--keys", keys.directory,
                            "--host-label", host,
                        ] + count
                    try supervisor.start(
                        clusters: group,
                        shellCommand: LaunchTemplate.expand(
                            options.launch, host: host, cluster: group.lowerBound, arguments: arguments))
                } else {
                    var arguments =
                        [
                            "cluster", "--coordinator", server.listenEndpoint, "--id", "\(group.lowerBound)",
                            "--parent-pid", "\(getpid())",
                        ] + count
                    if let keys = options.keys { arguments += ["--keys", keys.directory] }
                    if let layout { arguments += ["--cpu", "\(layout.clusterProcesses[index])"] }
                    try supervisor.start(clusters: group, arguments: arguments)
                }
            }
            if let layout, !CPUAffinity.pinCurrentThread(to: [layout.coordinator]) {
                options.log("could not pin the coordinator to CPU \(layout.coordinator); it runs unpinned")
            }
            let summary = try server.run(initial: options.injections)
            supervisor.stopAll()
            return summary
        } catch let lost as ClusterLost {
            // The connection may drop before the exit is reported: say how the process ended.
            let ended = supervisor.exit(of: lost.cluster, waitingUpTo: 2)
            supervisor.stopAll(grace: 1)
            guard let ended else { throw lost }
            throw CoordinatorServer.Abort.childDied(
                cluster: lost.cluster, pid: ended.pid, description: ended.description + onHost(lost.cluster, options))
        } catch CoordinatorServer.Abort.childDied(let cluster, let pid, let description) {
            supervisor.stopAll(grace: 1)
            throw CoordinatorServer.Abort.childDied(
                cluster: cluster, pid: pid, description: description + onHost(cluster, options))
        } catch {
            supervisor.stopAll(grace: 1)
            throw error
        }
    }

    /// " on host H (with clusters …)" for a cluster placed on another host, else "".
    private static func onHost(_ cluster: Int, _ options: Options) -> String {
        guard let placement = options.placement, placement.hosts.indices.contains(cluster) else { return "" }
        let host = placement.hosts[cluster]
        let others = placement.clusters(on: host).filter { $0 != cluster }
        return " on host \(host)"
            + (others.isEmpty ? "" : " (which also runs clusters \(others.map(String.init).joined(separator: ", ")))")
    }

    private static func runInProcess(_ options: Options, wake: WakeSignal) throws -> RunSummary {
        try RunFiles.prepare(outputDirectory: options.outputDirectory)
        let trace = try options.traceFormat.writer(
            directory: options.outputDirectory, config: options.config, library: options.library)
        let session = WaferSession.inProcess(
            config: options.config, library: options.library, scheduler: options.scheduler,
            functional: try options.functional?())
        let timeline = UtilisationTimeline(
            mesh: options.config.mesh, forward: trace)
        session.traceSink = timeline
        for injection in options.injections { try session.inject(injection) }
        let start = Date()
        var interrupted: Int32?
        var pacer = options.pace.map { Pacer(ratio: $0, clockMHz: options.config.clockMHz) }
        pacer?.resume(at: session.now)
        if let pacer {
            // Sleep in short steps so Ctrl-C is noticed while waiting.
            session.pace = { cycle in
                while interrupted == nil, case let wait = pacer.wait(before: cycle), wait > 0.0005 {
                    for case .signal(let signal) in wake.drain() { interrupted = signal }
                    usleep(UInt32(min(wait, 0.1) * 1_000_000))
                }
            }
        }
        var failure: Error?
        do {
            try session.runUntilIdle(shouldStop: {
                for case .signal(let signal) in wake.drain() { interrupted = signal }
                if let progress = options.progress {
                    progress.run(
                        virtualMicroseconds: options.config.microseconds(session.now),
                        finished: session.coordinator.records.count, accepted: session.coordinator.accepted,
                        windows: 0)
                }
                return interrupted != nil
            })
        } catch {
            failure = error
        }
        options.progress?.finish()
        // Whatever stopped the run, the trace is closed and a summary written (marked incomplete).
        try trace.close()
        if let signal = interrupted { failure = CoordinatorServer.Abort.interrupted(signal: signal) }
        if failure != nil { session.markStopped() }
        let stats = try session.collectStats()
        let results = SummaryBuilder.results(session: session, stats: stats)
        let host = SummaryBuilder.host(
            session: session, results: results, wallSeconds: Date().timeIntervalSince(start), processes: 1, stats: stats
        )
        var summary = RunSummary(results: results, host: host)
        summary.host?.pace = options.pace
        summary.host?.recordProvenance(commandLine: options.commandLine, clusterBuilds: [], inputs: options.inputs)
        summary.host?.paceReached = pacer?.reached(at: session.now)
        summary.complete = failure == nil
        if let failure {
            summary.complete = false
            summary.stoppedBecause = "\(failure)"
            summary.virtualTimeCycles = session.now
        }
        try SummaryRenderer.json(summary).write(
            to: URL(fileURLWithPath: (options.outputDirectory as NSString).appendingPathComponent("summary.json")))
        try RunTables.write(to: options.outputDirectory, session: session, timeline: timeline, stats: stats)
        if let failure { throw failure }
        return summary
    }
}
