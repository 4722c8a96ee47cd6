import CProcessControl
import Emulation
import Foundation
import Scheduling
import WaferModel
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// The cluster process: registers with the coordinator, receives its configuration, then runs the
/// rounds it is granted on its ``ClusterEngine`` — the envelopes it receives come with the grant,
/// the envelopes it sends go back with its report. Blocks in `zmq_poll` whenever it has nothing to do.
public final class ClusterProcess {
    public struct Options {
        public var coordinator: String
        public var cluster: Int
        /// Exit when this process is no longer our parent (set by `octopus run`).
        public var parentPID: Int32?
        /// Give up when no setup arrives within this many seconds.
        public var setupTimeout: TimeInterval
        /// Where the scheduler named by the coordinator is looked up (it must know the same names).
        public var registry: SchedulerRegistry = .standard
        /// The kernels of functional mode, used when the coordinator runs the wafer in it.
        public var functional: FunctionalKernels?
        /// CurveZMQ keys, needed when the coordinator uses them (and to reach it off loopback).
        public var keys: WaferKeys?
        /// The name this cluster's host is reported under (default: the host name).
        public var hostLabel: String?

        public init(coordinator: String, cluster: Int, parentPID: Int32? = nil, setupTimeout: TimeInterval = 60) {
            self.coordinator = coordinator
            self.cluster = cluster
            self.parentPID = parentPID
            self.setupTimeout = setupTimeout
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let options: Options
    private let context: Context
    private let dealer: Socket
    private let monitor: Socket
    /// The cluster's engine and its side of the window protocol, once set up.
    private var runner: ClusterWindowRunner?
    private var engine: ClusterEngine? { runner?.engine }

    public init(options: Options) throws {
        self.options = options
        if let parent = options.parentPID {
            // Die with the launcher, whatever happens to it; Ctrl-C is the launcher's to handle.
            _ = octopus_set_parent_death_signal(SIGKILL)
            signal(SIGINT, SIG_IGN)
            if getppid() != parent { throw Failure(description: "launcher \(parent) is already gone") }
        }
        try Endpoints.check(options.coordinator, what: "--coordinator", authenticated: options.keys != nil)
        context = try Context()
        dealer = try context.socket(.dealer)
        if let keys = options.keys {
            try dealer.makeCurveClient(serverKey: keys.coordinatorPublicKey, keys: keys.member)
        }
        try dealer.setRoutingID("cluster-\(options.cluster)")
        try dealer.setHighWaterMarks(send: 0, receive: 0)
        try dealer.setHeartbeat(intervalMs: 1000, timeoutMs: 5000)
        monitor = try dealer.monitor(
            events: Socket.Event.disconnected | Socket.Event.handshakeFailed, context: context,
            name: "cluster-\(options.cluster)-\(getpid())")
        try dealer.connect(options.coordinator)
    }

    /// Runs until the coordinator says stop. Throws when the coordinator or the launcher is lost,
    /// or a protocol error occurs.
    public func run() throws {
        let registration = ClusterProtocol.Registration(
            cluster: options.cluster, pid: getpid(), host: options.hostLabel ?? ProcessInfo.processInfo.hostName,
            wire: ClusterProtocol.version)
        try dealer.send(ClusterProtocol.json(.register, registration))

        var poller = Poller()
        let dealerIndex = poller.add(.socket(dealer))
        let monitorIndex = poller.add(.socket(monitor))
        let started = Date()
        while true {
            let ready = try poller.poll(timeoutMs: 1000)
            try checkParent()
            if ready.contains(monitorIndex), let event = try Socket.readMonitorEvent(monitor) {
                if Socket.Event.isHandshakeFailure(event.event) {
                    throw Failure(
                        description: HandshakeRefusal.description(
                            endpoint: options.coordinator, withKeys: options.keys != nil))
                }
                throw Failure(description: "lost the connection to the coordinator at \(options.coordinator)")
            }
            if engine == nil, Date().timeIntervalSince(started) > options.setupTimeout {
                throw Failure(
                    description:
                        "no setup from a coordinator at \(options.coordinator) within \(Int(options.setupTimeout)) s (is it running, and expecting cluster \(options.cluster)?)"
                )
            }
            if ready.contains(dealerIndex) {
                while let frames = try dealer.receive(dontWait: true) {
                    if try handle(frames) { return }
                }
            }
        }
    }

    private func checkParent() throws {
        if let parent = options.parentPID, getppid() != parent {
            throw Failure(description: "the launcher (pid \(parent)) exited")
        }
    }

    /// Handles one coordinator message; returns true on STOP.
    private func handle(_ frames: [[UInt8]]) throws -> Bool {
        let (tag, body) = try ClusterProtocol.parse(frames)
        switch tag {
        case .setup:
            let setup = try ClusterProtocol.decodeJSON(ClusterProtocol.Setup.self, body)
            guard options.cluster < setup.config.clusterCount else {
                throw Failure(
                    description:
                        "this is cluster \(options.cluster), but the wafer has \(setup.config.clusterCount) clusters")
            }
            let scheduler: Scheduler
            do { scheduler = try options.registry.scheduler(setup.scheduler) } catch {
                throw Failure(
                    description:
                        "\(error) (are coordinator and cluster different versions, or built with different schedulers?)"
                )
            }
            var kernels: (any FunctionalExecutor)?
            if setup.functional {
                guard let make = options.functional else {
                    throw Failure(
                        description:
                            "the coordinator runs the wafer in functional mode, but this cluster process has no kernels for it"
                    )
                }
                kernels = try make()
            }
            runner = ClusterWindowRunner(
                engine: ClusterEngine(
                    id: options.cluster, config: setup.config, library: setup.library, scheduler: scheduler,
                    functional: kernels))
            // The coordinator starts the run (and its clock) once every cluster has said this.
            try dealer.send(ClusterProtocol.frames(.ready))
        case .grant:
            try runWindow(ClusterProtocol.decodeGrant(body))
        case .collect:
            guard let engine else { throw Failure(description: "COLLECT before setup") }
            let end = try ClusterProtocol.decodeCycle(body)
            try dealer.send(ClusterProtocol.json(.stats, engine.finalStats(end: end)))
        case .stop:
            try dealer.send(ClusterProtocol.frames(.bye))
            return true
        case .error:
            throw Failure(description: "coordinator refused this cluster: \(String(decoding: body, as: UTF8.self))")
        case .ping:
            break
        case .register, .report, .stats, .bye, .ready:
            throw Failure(description: "unexpected \(tag) message from the coordinator")
        }
        return false
    }

    private func runWindow(_ grant: ClusterProtocol.Grant) throws {
        guard let runner else { throw Failure(description: "window granted before setup") }
        let start = DispatchTime.now().uptimeNanoseconds
        let run = WindowRun(
            cluster: options.cluster, inputs: grant.inputs, inWindow: grant.inWindow, restore: grant.restore,
            correction: grant.correction)
        let output: ClusterWindowReport
        do {
            output = try runner.run(
                run, window: WindowPlan(index: grant.window, start: 0, end: grant.end), speculative: grant.speculative)
        } catch let failure as ClusterWindowRunner.Failure {
            throw Failure(description: failure.description)
        }
        let report = ClusterProtocol.Report(
            window: grant.window, nextEvent: output.nextEventTime, earliestOutput: output.earliestOutput,
            events: output.events, computeNanos: DispatchTime.now().uptimeNanoseconds - start,
            absorbs: output.absorbs, lateAbsorption: output.lateAbsorption, envelopes: output.envelopes,
            trace: output.trace)
        try dealer.send(ClusterProtocol.encode(report))
    }

    deinit {
        monitor.close()
        dealer.close()
    }
}
