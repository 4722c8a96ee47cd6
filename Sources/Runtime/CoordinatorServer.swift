import Emulation
import Foundation
import Scheduling
import WaferModel
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// The coordinator process: waits for its clusters, distributes the configuration, drives the
/// window loop of a ``WaferSession`` over ZeroMQ, serves the control socket between windows,
/// streams the trace and writes the summary. Blocks in `zmq_poll` whenever the wafer is idle.
public final class CoordinatorServer {
    public struct Options {
        public var config: WaferConfig
        public var library: WorkflowLibrary
        /// Endpoint clusters connect to.
        public var listen: String
        /// Endpoint of the control socket.
        public var control: String
        /// Where trace.json and summary.json go.
        public var outputDirectory: String
        /// The command line that started the run, for the summary (nil: not from a command line).
        public var commandLine: [String]?
        /// The log of the files the run was read from, listed in the summary when it is written
        /// (``InputFileLog/shared`` from the command line; nil: not listed).
        public var inputs: InputFileLog?
        /// The scheduler the wafer runs; clusters rebuild it from its text form (see ``SchedulerRegistry``).
        public var scheduler: Scheduler = .octopus
        /// Finish as soon as the wafer is idle (`octopus run`); otherwise serve until `stop`.
        public var exitWhenIdle = false
        /// Functional mode (real tensors through these kernels) instead of timing mode (nil).
        public var functional: FunctionalKernels?
        public var registrationTimeout: TimeInterval = 60
        /// CurveZMQ keys: with them both sockets authenticate and encrypt every connection and may
        /// bind to non-loopback addresses; without them they must be on loopback or ipc://.
        public var keys: WaferKeys?
        /// After a failure (a lost cluster, a protocol error, virtual time past the horizon) keep
        /// answering `status` and `stop` for this many seconds before exiting (nil: exit at once).
        public var serveAfterFailure: TimeInterval?
        /// The only directory a control message's replay `file` may name (nil: none).
        public var dataDirectory: String?
        /// A progress line for a terminal (nil: none).
        public var progress: ProgressLine?
        /// Virtual µs per wall µs (nil: as fast as possible).
        public var pace: Double?
        /// The trace's format (trace.json or trace.pftrace).
        public var traceFormat = TraceFormat.json
        /// The CPUs the launcher pinned the wafer's processes to, for the summary (nil: not pinned).
        public var cpus: RunSummary.Host.CPUs?
        /// Progress messages (to stderr by default).
        public var log: (String) -> Void = { FileHandle.standardError.write(Data(("octopus: " + $0 + "\n").utf8)) }

        public init(
            config: WaferConfig, library: WorkflowLibrary, listen: String, control: String, outputDirectory: String
        ) {
            self.config = config
            self.library = library
            self.listen = listen
            self.control = control
            self.outputDirectory = outputDirectory
        }
    }

    /// Why a run ended early.
    public enum Abort: Error, CustomStringConvertible {
        case interrupted(signal: Int32)
        case childDied(cluster: Int, pid: Int32, description: String)
        case registrationTimeout(missing: [Int], seconds: Double)
        case setupTimeout(missing: [Int], seconds: Double)
        case stoppedBeforeStart

        public var description: String {
            switch self {
            case .interrupted(let signal): return "interrupted by signal \(signal); the wafer was shut down"
            case .childDied(let cluster, let pid, let how):
                return "cluster \(cluster) (pid \(pid)) \(how); the wafer was shut down"
            case .registrationTimeout(let missing, let seconds):
                return
                    "clusters \(missing.map(String.init).joined(separator: ", ")) did not register within \(WaitText.describe(seconds))"
            case .setupTimeout(let missing, let seconds):
                return
                    "clusters \(missing.map(String.init).joined(separator: ", ")) registered but were not ready (setup decoded, engine built) within \(WaitText.describe(seconds))"
            case .stoppedBeforeStart: return "stopped before all clusters had registered and were ready"
            }
        }
    }

    private enum State: String { case waiting, running, idle, draining, failed }
    /// Seconds from the start until every cluster had registered.
    private var registrationSeconds: Double?

    public let options: Options
    private let context: Context
    private let authenticator: ZAPAuthenticator?
    private let router: Socket
    private let controlSocket: Socket
    private let wake: WakeSignal
    private let transport: RemoteClusterTransport
    public let session: WaferSession
    private let trace: TraceFileWriter
    private let timeline: UtilisationTimeline
    private var state = State.waiting
    private var registered: [Int: ClusterProtocol.Registration] = [:]
    private var pendingDrains: [[[UInt8]]] = []
    private var stopRequester: [[UInt8]]?
    /// A signal (SIGINT, SIGTERM) that asked a running wafer to stop: it stops at the next window
    /// boundary and collects the clusters' statistics, unless a second signal comes or
    /// ``interruptGrace`` passes first (then it stops at once, without them).
    private var interrupt: (signal: Int32, deadline: Date)?
    /// Whether the wafer is running windows (a signal before that stops it at once).
    private var running = false
    /// Whether ``finish(wallStart:setupSeconds:)`` wrote the summary and stopped the clusters.
    private var finished = false
    /// How long a signalled wafer may take to reach a window boundary and collect its statistics.
    static let interruptGrace: TimeInterval = 5
    private var rateLimiter = RequestRateLimiter()
    private var pacer: Pacer?
    /// Injections refused (bad fields, limits, draining).
    private var refusedInjections = 0
    /// Endpoints after binding (ports chosen for `:*` resolved).
    public let listenEndpoint: String
    public let controlEndpoint: String

    /// Binds the cluster and control sockets and opens the trace. `wake` lets signals and child
    /// exits interrupt waiting.
    public init(options: Options, wake: WakeSignal) throws {
        try Endpoints.check(options.listen, what: "--listen", authenticated: options.keys != nil)
        try Endpoints.check(options.control, what: "--control", authenticated: options.keys != nil)
        self.options = options
        self.wake = wake
        // A connection per cluster, the trace, the control socket and the children's pipes.
        try OpenFileLimit.ensure(256 + 2 * options.config.clusterCount)
        let context = try Context(ioThreadCPUs: options.cpus.map { [$0.coordinator] } ?? [])
        self.context = context
        // The ZAP handler is bound before any server socket, so no connection is ever admitted unchecked.
        let log = options.log
        authenticator = try options.keys.map { keys in
            try ZAPAuthenticator(context: context, allowed: [keys.member.publicKey]) { log("security: " + $0) }
        }
        router = try context.socket(.router)
        try router.setRouterMandatory()
        try router.setHighWaterMarks(send: 0, receive: 0)
        try router.setHeartbeat(intervalMs: 1000, timeoutMs: 5000)
        controlSocket = try context.socket(.router)
        // Oversized requests are refused by libzmq before they are read into memory.
        try controlSocket.setMaximumMessageSize(Int64(Limits.controlMessageBytes))
        if let keys = options.keys, let authenticator {
            let pair = try keys.coordinatorPair()
            try router.makeCurveServer(pair, domain: "octopus")
            try controlSocket.makeCurveServer(pair, domain: "octopus")
            try authenticator.watch(router, name: "cluster")
            try authenticator.watch(controlSocket, name: "control")
            authenticator.start()
        }
        try router.bind(options.listen)
        listenEndpoint = try router.lastEndpoint()
        try controlSocket.bind(options.control)
        controlEndpoint = try controlSocket.lastEndpoint()

        try RunFiles.prepare(outputDirectory: options.outputDirectory)
        trace = try options.traceFormat.writer(
            directory: options.outputDirectory, config: options.config, library: options.library)
        transport = RemoteClusterTransport(
            router: router, clusterCount: options.config.clusterCount, wakeDescriptor: wake.fileDescriptor,
            reportCheck: ReportCheck(config: options.config, library: options.library, scheduler: options.scheduler))
        session = WaferSession(
            coordinator: CoordinatorEngine(
                config: options.config, library: options.library, scheduler: options.scheduler,
                functional: try options.functional?()),
            transport: transport)
        timeline = UtilisationTimeline(
            mesh: options.config.mesh, forward: trace)
        session.traceSink = timeline
        // Speculative windows start one load-signal period long and adapt between 1/8 and 2 of them.
        let period = options.config.cluster.loadSignalPeriod
        session.speculation = Speculation(
            enabled: options.config.sync.speculation, length: period, minimumLength: max(1, period / 8),
            maximumLength: period * 2)
        transport.healthCheck = { [unowned self] in try self.checkWake() }
    }

    deinit {
        authenticator?.stop()
        controlSocket.close()
        router.close()
    }

    /// Connections refused at the handshake so far (no keys, or not the wafer's).
    public var refusedConnections: Int { authenticator?.refused ?? 0 }

    /// Runs the wafer: registration, setup, `initial` injections, windows until idle (with
    /// `exitWhenIdle`) or until a `stop` request. Returns the summary written to the output directory.
    public func run(initial: [Injection] = []) throws -> RunSummary {
        let setupStart = Date()
        var wallStart = Date()
        do {
            try waitForClusters()
            registrationSeconds = Date().timeIntervalSince(setupStart)
            try waitUntilReady()
            let setupSeconds = Date().timeIntervalSince(setupStart)
            for injection in initial { try session.inject(injection) }
            wallStart = Date()
            pacer = options.pace.map { Pacer(ratio: $0, clockMHz: options.config.clockMHz) }
            running = true
            try mainLoop()
            let summary = try finish(wallStart: wallStart, setupSeconds: setupSeconds)
            // Stopped by a signal: the summary (marked incomplete) has everything up to the stop;
            // the caller still learns that the run was interrupted.
            if let interrupt { throw Abort.interrupted(signal: interrupt.signal) }
            return summary
        } catch Abort.interrupted(let signal) where finished {
            throw Abort.interrupted(signal: signal)
        } catch var lost as ClusterLost {
            // Name the host, and the clusters that went with it.
            if let host = registered[lost.cluster]?.host {
                lost.host = host
                lost.siblings = registered.keys.sorted().filter { $0 != lost.cluster && registered[$0]!.host == host }
            }
            stopAfterFailure(lost, wallStart: wallStart)
            throw lost
        } catch {
            stopAfterFailure(error, wallStart: wallStart)
            throw error
        }
    }

    /// Saves what a failed run has — a closed trace and a summary marked incomplete — stops the
    /// clusters, and (for a hand-started coordinator) stays to answer `status` and `stop`.
    private func stopAfterFailure(_ error: Error, wallStart: Date) {
        options.progress?.finish()
        try? trace.close()
        transport.stopAll(timeout: 1)
        writeIncompleteSummary(reason: "\(error)", wallStart: wallStart)
        var interrupted = false
        if case Abort.interrupted = error { interrupted = true }
        // Only a wafer that had started has anything to answer for; one that never assembled exits.
        if let seconds = options.serveAfterFailure, !interrupted, stopRequester == nil, state != .waiting {
            serveFailed(reason: "\(error)", seconds: seconds)
        }
    }

    /// The summary of a run that did not finish: `complete: false`, why, and the virtual time it
    /// reached; results from what the coordinator recorded (per-cluster statistics are not
    /// collected from a failed wafer).
    private func writeIncompleteSummary(reason: String, wallStart: Date) {
        session.markStopped()
        let results = SummaryBuilder.results(session: session, stats: [])
        var host = SummaryBuilder.host(
            session: session, results: results, wallSeconds: Date().timeIntervalSince(wallStart),
            processes: processCount, stats: [])
        host.placement = (0..<options.config.clusterCount).map { registered[$0]?.host ?? "" }
        host.cpus = options.cpus
        host.recordProvenance(
            commandLine: options.commandLine,
            clusterBuilds: (0..<options.config.clusterCount).map { registered[$0]?.build },
            inputs: options.inputs)
        var summary = RunSummary(results: results, host: host)
        summary.complete = false
        summary.stoppedBecause = reason
        summary.virtualTimeCycles = session.now
        let path = (options.outputDirectory as NSString).appendingPathComponent("summary.json")
        do {
            try SummaryRenderer.json(summary).write(to: URL(fileURLWithPath: path))
            try RunTables.write(to: options.outputDirectory, session: session, timeline: timeline, stats: [])
            options.log("wrote an incomplete summary to \(path)")
        } catch {
            options.log("could not write \(path): \(error)")
        }
    }

    /// Answers the control socket in the `failed` state until `stop`, a signal or `seconds` pass.
    private func serveFailed(reason: String, seconds: TimeInterval) {
        state = .failed
        options.log(
            "the wafer failed; answering status and stop on \(controlEndpoint) for \(WaitText.describe(seconds))")
        var poller = Poller()
        poller.add(.socket(controlSocket))
        poller.add(.fileDescriptor(wake.fileDescriptor))
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard (try? poller.poll(timeoutMs: 500)) != nil else { return }
            for reason in wake.drain() { if case .signal = reason { return } }
            while let frames = try? controlSocket.receive(dontWait: true), frames.count >= 2 {
                let envelope = Array(frames.dropLast())
                var reply: [String: Any]
                switch try? ControlProtocol.parse(frames.last!) {
                case .status?:
                    reply = status()
                    reply["error"] = reason
                case .stop?:
                    try? controlSocket.send(
                        envelope + [
                            ControlProtocol.encode(["ok": true, "stopped": true, "output": options.outputDirectory])
                        ])
                    return
                default:
                    reply = ControlProtocol.error("the wafer has failed (\(reason)); only status and stop are answered")
                }
                try? controlSocket.send(envelope + [ControlProtocol.encode(reply)])
            }
        }
    }

    // MARK: Phases

    private func waitForClusters() throws {
        let count = options.config.clusterCount
        options.log(
            "waiting for \(count) clusters on \(listenEndpoint) (control: \(controlEndpoint); build \(BuildInfo.id ?? "unknown"))"
        )
        var poller = Poller()
        let routerIndex = poller.add(.socket(router))
        let controlIndex = poller.add(.socket(controlSocket))
        poller.add(.fileDescriptor(wake.fileDescriptor))
        let deadline = Date().addingTimeInterval(options.registrationTimeout)
        while registered.count < count {
            if Date() > deadline {
                throw Abort.registrationTimeout(
                    missing: (0..<count).filter { registered[$0] == nil }, seconds: options.registrationTimeout)
            }
            let ready = try poller.poll(timeoutMs: 500)
            try checkWake()
            if ready.contains(controlIndex) { try serveControl() }
            if stopRequester != nil { throw Abort.stoppedBeforeStart }
            guard ready.contains(routerIndex) else { continue }
            while let frames = try router.receive(dontWait: true) { try handleRegistration(frames) }
        }
        transport.processLeader = Self.processLeaders(registered, count: count)
        // The setup is the same for every cluster (its routing id says which it is): encoded once.
        let setup = ClusterProtocol.frames(
            .setup,
            try ClusterProtocol.encode(
                ClusterProtocol.Setup(
                    config: options.config, library: options.library, scheduler: options.scheduler.description,
                    functional: options.functional != nil)))
        for cluster in 0..<count {
            try transport.send(cluster, setup)
        }
        options.log("all \(count) clusters registered (setup: \(setup.reduce(0) { $0 + $1.count }) bytes each)")
    }

    /// Waits until every cluster has decoded its setup and built its engine (READY), so the run —
    /// and its wall clock — starts with every cluster able to take a grant: otherwise the first
    /// rounds would wait for the slowest set-ups (on a 16×16 wafer, 256 processes decoding on a
    /// few cores), and that start-up would count as synchronisation cost.
    private func waitUntilReady() throws {
        let count = options.config.clusterCount
        var ready = [Bool](repeating: false, count: count)
        var missing = count
        var poller = Poller()
        let routerIndex = poller.add(.socket(router))
        let controlIndex = poller.add(.socket(controlSocket))
        poller.add(.fileDescriptor(wake.fileDescriptor))
        let deadline = Date().addingTimeInterval(options.registrationTimeout)
        while missing > 0 {
            if Date() > deadline {
                throw Abort.setupTimeout(
                    missing: (0..<count).filter { !ready[$0] }, seconds: options.registrationTimeout)
            }
            let polled = try poller.poll(timeoutMs: 500)
            try checkWake()
            if polled.contains(controlIndex) { try serveControl() }
            if stopRequester != nil { throw Abort.stoppedBeforeStart }
            // A cluster that lost its connection (a remote one that failed its set-up) is named.
            if polled.isEmpty { try transport.probe() }
            guard polled.contains(routerIndex) else { continue }
            while let frames = try router.receive(dontWait: true) {
                guard let cluster = RemoteClusterTransport.cluster(from: frames), cluster < count,
                    let (tag, _) = try? ClusterProtocol.parse(Array(frames.dropFirst()))
                else {
                    transport.countDropped()
                    continue
                }
                switch tag {
                case .ready where !ready[cluster]:
                    ready[cluster] = true
                    missing -= 1
                case .register:
                    try? router.send(
                        [frames[0]]
                            + ClusterProtocol.frames(.error, Array("cluster \(cluster) is already running".utf8)))
                default:
                    transport.countDropped()
                }
            }
        }
        state = pendingDrains.isEmpty ? .idle : .draining
        options.log("all \(count) clusters ready")
    }

    private func handleRegistration(_ frames: [[UInt8]]) throws {
        guard frames.count == 3, let (tag, body) = try? ClusterProtocol.parse(Array(frames.dropFirst())),
            tag == .register
        else { return }
        func refuse(_ why: String) {
            options.log("refused a cluster: \(why)")
            try? router.send([frames[0]] + ClusterProtocol.frames(.error, Array(why.utf8)))
        }
        guard let registration = try? ClusterProtocol.decodeJSON(ClusterProtocol.Registration.self, body) else {
            return refuse("malformed registration")
        }
        let id = registration.cluster
        // Checked first: every message below quotes the host name.
        if let problem = registration.nameProblem {
            return refuse("malformed registration of cluster \(id): \(problem)")
        }
        guard registration.wire == ClusterProtocol.version else {
            let theirs = registration.wire.map { "window protocol \($0)" } ?? "an older window protocol"
            return refuse(
                "cluster \(id) (pid \(registration.pid) on \(registration.host)) speaks \(theirs), this coordinator window protocol \(ClusterProtocol.version): run the same octopus build on every host"
            )
        }
        guard (0..<options.config.clusterCount).contains(id) else {
            return refuse("cluster id \(id) is outside this wafer (0...\(options.config.clusterCount - 1))")
        }
        guard RemoteClusterTransport.cluster(from: frames) == id else {
            return refuse("routing id does not match cluster \(id)")
        }
        guard registered[id] == nil else {
            return refuse("cluster \(id) is already registered (pid \(registered[id]!.pid))")
        }
        registered[id] = registration
        if registration.build != BuildInfo.id {
            options.log(
                "warning: cluster \(id) (pid \(registration.pid) on \(registration.host)) runs build \(registration.build ?? "unknown"), this coordinator build \(BuildInfo.id ?? "unknown"): the same window protocol, but a different build may model differently (the summary lists the clusters of each build)"
            )
        }
    }

    private func mainLoop() throws {
        var poller = Poller()
        let routerIndex = poller.add(.socket(router))
        let controlIndex = poller.add(.socket(controlSocket))
        poller.add(.fileDescriptor(wake.fileDescriptor))
        // While pacing waits, only requests and signals may wake it (a stray message on the
        // cluster socket would otherwise keep the wait spinning).
        var pacingPoller = Poller()
        pacingPoller.add(.socket(controlSocket))
        pacingPoller.add(.fileDescriptor(wake.fileDescriptor))
        while true {
            try checkWake()
            if interrupt != nil { return }
            try serveControl()
            if stopRequester != nil { return }
            // Pacing: wait (still answering the control socket) until wall time catches up.
            pacer?.resume(at: session.now)
            if let pacer, case let wait = pacer.wait(before: session.nextPendingTime), wait > 0 {
                // Long waits listen to the control socket; the last millisecond is slept exactly.
                if wait >= 0.002 {
                    _ = try pacingPoller.poll(timeoutMs: Int(min(wait, 0.25) * 1000) - 1)
                    continue
                }
                usleep(UInt32(wait * 1_000_000))
            }
            if try session.step() {
                if state == .idle { state = .running }
                reportProgress()
                continue
            }
            reportProgress()
            // Idle: nothing pending anywhere.
            pacer?.pause(at: session.now)
            if state == .draining || !pendingDrains.isEmpty {
                let reply = ControlProtocol.encode([
                    "ok": true, "drained": true, "virtual_time_cycles": session.now,
                    "completed": session.coordinator.completedCount, "rejected": session.coordinator.rejectedCount,
                ])
                for envelope in pendingDrains { try? controlSocket.send(envelope + [reply]) }
                pendingDrains.removeAll()
            }
            state = .idle
            if options.exitWhenIdle { return }
            let ready = try poller.poll(timeoutMs: 1000)
            if ready.contains(routerIndex) {
                while let frames = try router.receive(dontWait: true) {
                    // A late cluster is told why it cannot join; anything else is dropped and counted.
                    guard RemoteClusterTransport.cluster(from: frames) != nil else {
                        transport.countDropped()
                        continue
                    }
                    try? router.send(
                        [frames[0]] + ClusterProtocol.frames(.error, Array("this wafer is already running".utf8)))
                }
            }
            if ready.isEmpty { try transport.probe() }
            if ready.contains(controlIndex) { continue }
        }
    }

    private func reportProgress() {
        guard let progress = options.progress, progress.enabled else { return }
        let coordinator = session.coordinator
        progress.run(
            virtualMicroseconds: options.config.microseconds(session.now), finished: coordinator.records.count,
            accepted: coordinator.accepted, windows: session.synchronizer.windows)
    }

    /// For each cluster, the first cluster of the process hosting it (registrations naming the
    /// same process), so that a process gets its grants of a round in one message.
    static func processLeaders(_ registered: [Int: ClusterProtocol.Registration], count: Int) -> [Int] {
        var first: [String: Int] = [:]
        return (0..<count).map { cluster in
            guard let process = registered[cluster]?.process else { return cluster }
            if let leader = first[process] { return leader }
            first[process] = cluster
            return cluster
        }
    }

    /// This process and the cluster processes registered (one may host several clusters).
    private var processCount: Int {
        1 + Set(registered.values.map { $0.process ?? "\($0.host)/\($0.pid)" }).count
    }

    private func finish(wallStart: Date, setupSeconds: Double) throws -> RunSummary {
        options.progress?.finish()
        if interrupt != nil { session.markStopped() }
        // The trace is written while the wafer runs; what is left of it counts in the wall time.
        try trace.close()
        let stats = try session.collectStats()
        let results = SummaryBuilder.results(session: session, stats: stats)
        var host = SummaryBuilder.host(
            session: session, results: results, wallSeconds: Date().timeIntervalSince(wallStart),
            processes: processCount, stats: stats)
        host.setupSeconds = setupSeconds
        host.registrationSeconds = registrationSeconds
        host.pace = options.pace
        host.paceReached = pacer?.reached(at: session.now)
        host.placement = (0..<options.config.clusterCount).map { registered[$0]?.host ?? "" }
        host.cpus = options.cpus
        host.recordProvenance(
            commandLine: options.commandLine,
            clusterBuilds: (0..<options.config.clusterCount).map { registered[$0]?.build },
            inputs: options.inputs)
        var summary = RunSummary(results: results, host: host)
        summary.complete = true
        if let interrupt {
            summary.complete = false
            summary.stoppedBecause = "\(Abort.interrupted(signal: interrupt.signal))"
            summary.virtualTimeCycles = session.now
        }
        let summaryPath = (options.outputDirectory as NSString).appendingPathComponent("summary.json")
        try SummaryRenderer.json(summary).write(to: URL(fileURLWithPath: summaryPath))
        try RunTables.write(to: options.outputDirectory, session: session, timeline: timeline, stats: stats)
        if let requester = stopRequester {
            try? controlSocket.send(
                requester + [ControlProtocol.encode(["ok": true, "stopped": true, "output": options.outputDirectory])])
        }
        transport.stopAll()
        finished = true
        return summary
    }

    // MARK: Wake-ups

    private func checkWake() throws {
        for reason in wake.drain() {
            switch reason {
            case .signal(let signal):
                // A running wafer stops at the next window boundary, with its statistics; a
                // second signal, or one before the wafer runs, stops it at once.
                guard running, interrupt == nil else { throw Abort.interrupted(signal: signal) }
                interrupt = (signal, Date().addingTimeInterval(Self.interruptGrace))
                options.log(
                    "signal \(signal): stopping at the end of this window (again to stop at once, without statistics)")
            case .childExited(let cluster, let pid, let how):
                throw Abort.childDied(cluster: cluster, pid: pid, description: how)
            }
        }
        if let interrupt, Date() > interrupt.deadline {
            options.log(
                "the wafer did not reach a window boundary within \(Int(Self.interruptGrace)) s of the signal: "
                    + "stopping at once, without statistics")
            throw Abort.interrupted(signal: interrupt.signal)
        }
    }

    // MARK: Control socket

    /// Answers every queued control request (never blocks).
    private func serveControl() throws {
        while let frames = try controlSocket.receive(dontWait: true) {
            guard frames.count >= 2 else { continue }
            let envelope = Array(frames.dropLast())
            let reply: [String: Any]?
            guard rateLimiter.admit(envelope[0], now: ProcessInfo.processInfo.systemUptime) else {
                let limit =
                    "at most \(Int(rateLimiter.perSecond)) requests per second (bursts of \(Int(rateLimiter.burst)))"
                try? controlSocket.send(
                    envelope + [
                        ControlProtocol.encode(ControlProtocol.error("rate limit: this connection sends \(limit)"))
                    ])
                continue
            }
            do {
                let request = try ControlProtocol.parse(frames.last!)
                reply = try answer(request, envelope: envelope)
            } catch {
                reply = ControlProtocol.error("\(error)")
            }
            if let reply { try? controlSocket.send(envelope + [ControlProtocol.encode(reply)]) }
        }
    }

    /// A workflow sent with an injection (from a file) must be the one this wafer runs: the library
    /// is fixed when the clusters start.
    private func checkDefinition(_ node: ConfigNode, of name: String) throws {
        guard let index = options.library.index(of: name) else {
            throw node.error(
                "workflow '\(name)' is not in this wafer's library (known: \(options.library.names.joined(separator: ", "))); restart the wafer with its file in --workflows"
            )
        }
        let graph: WorkflowGraph
        let value = node.plainValue
        // Only an object can be a workflow (and JSONSerialization traps on scalars).
        guard value is [String: Any], JSONSerialization.isValidJSONObject(value) else {
            throw node.error("not a workflow definition: expected a JSON object")
        }
        do {
            graph = try JSONDecoder().decode(WorkflowGraph.self, from: JSONSerialization.data(withJSONObject: value))
        } catch {
            throw node.error("not a workflow definition: \(error)")
        }
        guard graph == options.library[index] else {
            throw node.error(
                "this definition of '\(name)' differs from the one the wafer runs; restart the wafer with the new file in --workflows"
            )
        }
    }

    /// The reply to `request`, or nil when it is deferred (drain, stop).
    private func answer(_ request: ControlProtocol.Request, envelope: [[UInt8]]) throws -> [String: Any]? {
        switch request {
        case .status:
            return status()
        case .inject(let node):
            guard state != .draining, pendingDrains.isEmpty else {
                refusedInjections += 1
                return ControlProtocol.error("the wafer is draining; injections are refused until it is idle")
            }
            let ids: ClosedRange<UInt64>
            let injection: Injection
            do {
                injection = try Injection.parse(
                    node, defaultStart: session.now, alsoAllowed: ["cmd", "definition"],
                    replayFiles: .confined(to: options.dataDirectory))
                if let definition = try node.mapping(allowed: Injection.fields + ["cmd", "definition"]).optional(
                    "definition")
                {
                    try checkDefinition(definition, of: injection.workflow)
                }
                ids = try session.inject(injection)
            } catch {
                refusedInjections += 1
                throw error
            }
            return [
                "ok": true, "requests": [ids.lowerBound, ids.upperBound], "workflow": injection.workflow,
                "start_cycle": injection.start,
            ]
        case .drain:
            // While clusters are still registering the drain simply waits for the start as well.
            if state != .waiting { state = .draining }
            pendingDrains.append(envelope)
            return nil
        case .stop:
            stopRequester = envelope
            return nil
        case .trace(let name):
            let target = (options.outputDirectory as NSString).appendingPathComponent(
                try ControlProtocol.snapshotName(name, extension: snapshotExtension)
                    ?? "trace-snapshot-\(session.now)\(snapshotExtension)")
            try trace.snapshot(to: target)
            return ["ok": true, "path": target, "events": trace.eventCount]
        }
    }

    /// Snapshots keep the trace's own format.
    private var snapshotExtension: String { options.traceFormat == .json ? ".json" : ".pftrace" }

    private func status() -> [String: Any] {
        let coordinator = session.coordinator
        let loads = coordinator.loadView.clusters.map {
            [
                "cluster": $0.cluster, "busy_tbus": $0.busyTBUs, "queued_tasks": $0.queuedTasks,
                "pending_cycles": $0.pendingCycles,
            ] as [String: Any]
        }
        return [
            "ok": true, "state": state.rawValue, "wafer": options.config.name, "build": BuildInfo.id ?? NSNull(),
            "virtual_time_cycles": session.now, "virtual_time_us": options.config.microseconds(session.now),
            "clusters": options.config.clusterCount, "clusters_registered": registered.count,
            "windows": session.synchronizer.windows,
            "refused_connections": refusedConnections,
            "refused_requests": rateLimiter.refused, "refused_injections": refusedInjections,
            "dropped_messages": transport.droppedMessages,
            "hosts": registered.keys.sorted().map { ["cluster": $0, "host": registered[$0]!.host] as [String: Any] },
            "requests": [
                "accepted": coordinator.accepted, "arrived": coordinator.arrived.reduce(0, +),
                "completed": coordinator.completedCount, "rejected": coordinator.rejectedCount,
                "in_flight": coordinator.inFlight,
            ] as [String: Any],
            "load": loads,
        ]
    }
}
