import CProcessControl
import Emulation
import Foundation
import Scheduling
import WaferModel
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// The cluster process: registers with the coordinator, receives its configuration and peers,
/// then runs the windows it is granted on its ``ClusterEngine``, sending task flows straight to
/// peer clusters and reports to the coordinator. Blocks in `zmq_poll` whenever it has nothing to do.
public final class ClusterProcess {
    public struct Options {
        public var coordinator: String
        public var cluster: Int
        /// Where to bind the data (task-flow) socket; derived from `coordinator` when nil.
        public var dataBind: String?
        /// Exit when this process is no longer our parent (set by `octopus run`).
        public var parentPID: Int32?
        /// Give up when no setup arrives within this many seconds.
        public var setupTimeout: TimeInterval
        /// Where the scheduler named by the coordinator is looked up (it must know the same names).
        public var registry: SchedulerRegistry = .standard
        /// The kernels of functional mode, used when the coordinator runs the wafer in it.
        public var functional: FunctionalKernels?

        public init(
            coordinator: String, cluster: Int, dataBind: String? = nil, parentPID: Int32? = nil,
            setupTimeout: TimeInterval = 60
        ) {
            self.coordinator = coordinator
            self.cluster = cluster
            self.dataBind = dataBind
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
    private let pull: Socket
    private let monitor: Socket
    private var pushes: [Int: Socket] = [:]
    private var peers: [String] = []
    private var engine: ClusterEngine?
    /// Peer envelopes received, by the window they were sent in.
    private var inbox: [UInt64: [Envelope]] = [:]
    /// Peer envelopes handed to the engine so far.
    private var delivered: UInt64 = 0

    public init(options: Options) throws {
        self.options = options
        if let parent = options.parentPID {
            // Die with the launcher, whatever happens to it; Ctrl-C is the launcher's to handle.
            _ = octopus_set_parent_death_signal(SIGKILL)
            signal(SIGINT, SIG_IGN)
            if getppid() != parent { throw Failure(description: "launcher \(parent) is already gone") }
        }
        try Endpoints.check(options.coordinator, what: "--coordinator")
        let dataBind =
            options.dataBind
            ?? Endpoints.defaultDataEndpoint(coordinator: options.coordinator, cluster: options.cluster)
        try Endpoints.check(dataBind, what: "--bind")
        context = try Context()
        dealer = try context.socket(.dealer)
        try dealer.setRoutingID("cluster-\(options.cluster)")
        try dealer.setHighWaterMarks(send: 0, receive: 0)
        try dealer.setHeartbeat(intervalMs: 1000, timeoutMs: 5000)
        monitor = try dealer.monitor(
            events: Socket.Event.disconnected, context: context, name: "cluster-\(options.cluster)-\(getpid())")
        try dealer.connect(options.coordinator)
        pull = try context.socket(.pull)
        try pull.setHighWaterMarks(send: 0, receive: 0)
        try pull.bind(dataBind)
    }

    /// Runs until the coordinator says stop. Throws when the coordinator or the launcher is lost,
    /// or a protocol error occurs.
    public func run() throws {
        let registration = ClusterProtocol.Registration(
            cluster: options.cluster, dataEndpoint: try pull.lastEndpoint(), pid: getpid(),
            host: ProcessInfo.processInfo.hostName)
        try dealer.send(ClusterProtocol.json(.register, registration))

        var poller = Poller()
        let dealerIndex = poller.add(.socket(dealer))
        let pullIndex = poller.add(.socket(pull))
        let monitorIndex = poller.add(.socket(monitor))
        let started = Date()
        while true {
            let ready = try poller.poll(timeoutMs: 1000)
            try checkParent()
            if ready.contains(monitorIndex), try Socket.readMonitorEvent(monitor) != nil {
                throw Failure(description: "lost the connection to the coordinator at \(options.coordinator)")
            }
            if engine == nil, Date().timeIntervalSince(started) > options.setupTimeout {
                throw Failure(
                    description:
                        "no setup from a coordinator at \(options.coordinator) within \(Int(options.setupTimeout)) s (is it running, and expecting cluster \(options.cluster)?)"
                )
            }
            if ready.contains(pullIndex) { try drainPeers(block: false) }
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
            guard setup.cluster == options.cluster else {
                throw Failure(
                    description: "coordinator sent setup for cluster \(setup.cluster) to cluster \(options.cluster)")
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
                kernels = make()
            }
            peers = setup.peers
            engine = ClusterEngine(
                id: options.cluster, config: setup.config, library: setup.library, scheduler: scheduler,
                functional: kernels)
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
        case .register, .report, .stats, .bye:
            throw Failure(description: "unexpected \(tag) message from the coordinator")
        }
        return false
    }

    private func runWindow(_ grant: ClusterProtocol.Grant) throws {
        guard let engine else { throw Failure(description: "window granted before setup") }
        // No message may be in flight when a window starts: wait for every peer envelope sent in
        // earlier windows (batches of the current window, from peers already running it, wait).
        func earlier() -> [UInt64] { inbox.keys.filter { $0 < grant.window }.sorted() }
        while delivered + earlier().reduce(0, { $0 + UInt64(inbox[$1]!.count) }) < grant.expectedPeerMessages {
            try drainPeers(block: true)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        engine.receive(grant.fromCoordinator)
        for window in earlier() {
            let batch = inbox.removeValue(forKey: window)!
            engine.receive(batch)
            delivered += UInt64(batch.count)
        }
        let output = engine.runWindow(end: grant.end)

        let routed = RoutedEnvelopes(output.envelopes)
        for (peer, envelopes) in routed.toClusters {
            try push(to: peer).send(ClusterProtocol.encodeBatch(window: grant.window, envelopes))
        }
        let nanos = DispatchTime.now().uptimeNanoseconds - start
        let report = ClusterProtocol.Report(
            window: grant.window, nextEvent: output.nextEventTime, earliestOutput: output.earliestOutput,
            events: output.events, computeNanos: nanos, peerTraffic: routed.peerTraffic,
            toCoordinator: routed.toCoordinator, trace: output.trace)
        try dealer.send(ClusterProtocol.encode(report))
    }

    private func push(to peer: Int) throws -> Socket {
        if let socket = pushes[peer] { return socket }
        guard peers.indices.contains(peer) else { throw Failure(description: "no endpoint for peer cluster \(peer)") }
        let socket = try context.socket(.push)
        try socket.setHighWaterMarks(send: 0, receive: 0)
        try socket.connect(peers[peer])
        pushes[peer] = socket
        return socket
    }

    /// Reads peer batches; with `block`, waits (checking the coordinator and launcher each second)
    /// until at least one arrives.
    private func drainPeers(block: Bool) throws {
        if block {
            var poller = Poller()
            let pullIndex = poller.add(.socket(pull))
            let monitorIndex = poller.add(.socket(monitor))
            while true {
                let ready = try poller.poll(timeoutMs: 1000)
                try checkParent()
                if ready.contains(monitorIndex), try Socket.readMonitorEvent(monitor) != nil {
                    throw Failure(description: "lost the connection to the coordinator while waiting for peer data")
                }
                if ready.contains(pullIndex) { break }
            }
        }
        while let frames = try pull.receive(dontWait: true) {
            guard frames.count == 1 else { throw WireError(description: "peer batch with \(frames.count) frames") }
            let batch = try ClusterProtocol.decodeBatch(frames[0])
            inbox[batch.window, default: []] += batch.envelopes
        }
    }

    deinit {
        for socket in pushes.values { socket.close() }
        monitor.close()
        pull.close()
        dealer.close()
    }
}
