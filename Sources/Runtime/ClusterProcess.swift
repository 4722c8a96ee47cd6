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
///
/// One process may host several clusters (``Options/count``, consecutive ids): each keeps its own
/// socket, registration and engine, so the coordinator and the window protocol see exactly what
/// they would of one process per cluster. A round's grants for its clusters come in one GRANTS
/// message (on its first cluster's socket), run one at a time, and go back in one REPORTS; its
/// clusters share the caches of block costs and plan indexes (pure memos), as in one process.
/// Fewer processes than clusters means fewer wake-ups and context switches on few cores.
public final class ClusterProcess {
    public struct Options {
        public var coordinator: String
        /// The first (or only) cluster this process hosts.
        public var cluster: Int
        /// How many clusters this process hosts: `cluster`, `cluster + 1`, … (at least 1).
        public var count = 1
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
        /// The CPU this process runs on, all its threads (nil: wherever the kernel puts them).
        public var cpu: Int?

        public init(coordinator: String, cluster: Int, parentPID: Int32? = nil, setupTimeout: TimeInterval = 60) {
            self.coordinator = coordinator
            self.cluster = cluster
            self.parentPID = parentPID
            self.setupTimeout = setupTimeout
        }

        /// The clusters this process hosts.
        public var clusters: Range<Int> { cluster..<(cluster + max(count, 1)) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// One hosted cluster: its connection to the coordinator and, once set up, its engine.
    private final class Member {
        let id: Int
        let dealer: Socket
        let monitor: Socket
        /// The cluster's engine and its side of the window protocol, once set up.
        var runner: ClusterWindowRunner?
        var stopped = false

        init(id: Int, dealer: Socket, monitor: Socket) {
            self.id = id
            self.dealer = dealer
            self.monitor = monitor
        }

        deinit {
            monitor.close()
            dealer.close()
        }
    }

    private let options: Options
    private let context: Context
    private var members: [Member] = []
    /// The setup every hosted cluster receives (the same bytes): decoded once, with the caches
    /// its clusters share.
    private var setup: (body: [UInt8], decoded: ClusterProtocol.Setup, costs: BlockCosts, plans: PlanIndexMemo)?

    public init(options: Options) throws {
        self.options = options
        guard options.count >= 1 else { throw Failure(description: "a cluster process hosts at least one cluster") }
        if let parent = options.parentPID {
            // Die with the launcher, whatever happens to it; Ctrl-C is the launcher's to handle.
            _ = octopus_set_parent_death_signal(SIGKILL)
            signal(SIGINT, SIG_IGN)
            if getppid() != parent { throw Failure(description: "launcher \(parent) is already gone") }
        }
        try Endpoints.check(options.coordinator, what: "--coordinator", authenticated: options.keys != nil)
        // Per cluster: its socket and its monitor (two sockets for libzmq), and about four files.
        try OpenFileLimit.ensure(64 + 4 * options.count)
        // Before the context: ZeroMQ's I/O thread starts from this thread and shares its CPU.
        if let cpu = options.cpu, !CPUAffinity.pinCurrentThread(to: [cpu]) {
            throw Failure(
                description:
                    "--cpu \(cpu): the system refused to run this process there (this machine has \(ProcessInfo.processInfo.processorCount) CPUs, numbered from 0; a cpuset or taskset may allow fewer)"
            )
        }
        context = try Context(maxSockets: 16 + 3 * options.count)
        for id in options.clusters {
            let dealer = try context.socket(.dealer)
            if let keys = options.keys {
                try dealer.makeCurveClient(serverKey: keys.coordinatorPublicKey, keys: keys.member)
            }
            try dealer.setRoutingID("cluster-\(id)")
            try dealer.setHighWaterMarks(send: 0, receive: 0)
            try dealer.setHeartbeat(intervalMs: 1000, timeoutMs: 5000)
            let monitor = try dealer.monitor(
                events: Socket.Event.disconnected | Socket.Event.handshakeFailed, context: context,
                name: "cluster-\(id)-\(getpid())")
            try dealer.connect(options.coordinator)
            members.append(Member(id: id, dealer: dealer, monitor: monitor))
        }
    }

    /// What this process hosts, for messages: "cluster 3" or "clusters 0–7".
    private var hosted: String {
        options.count > 1
            ? "clusters \(options.clusters.lowerBound)–\(options.clusters.upperBound - 1)"
            : "cluster \(options.cluster)"
    }

    /// Runs until the coordinator says stop (to every hosted cluster). Throws when the coordinator
    /// or the launcher is lost, or a protocol error occurs.
    public func run() throws {
        let processName = UUID().uuidString
        let host = options.hostLabel ?? ProcessInfo.processInfo.hostName
        // Every member's socket, and the first member's monitor: every hosted cluster connects
        // to the same endpoint with the same keys, so the first one's monitor tells for all.
        var everyone = Poller()
        var everyoneDealers: [Int: Member] = [:]
        var everyoneMonitors: [Int: Member] = [:]
        for member in members {
            var registration = ClusterProtocol.Registration(
                cluster: member.id, pid: getpid(), host: host, wire: ClusterProtocol.version)
            registration.build = BuildInfo.id
            if members.count > 1 { registration.process = processName }
            try member.dealer.send(ClusterProtocol.json(.register, registration))
            everyoneDealers[everyone.add(.socket(member.dealer))] = member
            if member === members.first { everyoneMonitors[everyone.add(.socket(member.monitor))] = member }
        }
        // While the wafer runs, the coordinator sends a process of several clusters every grant
        // through its first cluster's socket (GRANTS), so that socket is all it watches:
        // zmq_poll's cost grows with its items, and a process may host hundreds of clusters. The
        // others are watched again once anything but a round arrives (COLLECT and STOP go to every
        // cluster, the first one first).
        var lean = Poller()
        let leader = members[0]
        let leanDealers = [lean.add(.socket(leader.dealer)): leader]
        let leanMonitors = [lean.add(.socket(leader.monitor)): leader]
        var running = false
        // Once anything but a round reached the first socket, the end has begun: everyone again.
        var roundsOnly = true
        let started = Date()
        while true {
            let ready = try running ? lean.poll(timeoutMs: 1000) : everyone.poll(timeoutMs: 1000)
            let (dealers, monitors) = running ? (leanDealers, leanMonitors) : (everyoneDealers, everyoneMonitors)
            try checkParent()
            if running, ready.isEmpty {
                // A quiet second: read what reached the other sockets (the coordinator's pings
                // while it waits), so nothing piles up there.
                for member in members.dropFirst() {
                    while !member.stopped, let frames = try member.dealer.receive(dontWait: true) {
                        if try handle(frames, for: member) != .ping {
                            running = false
                            roundsOnly = false
                        }
                    }
                }
            }
            for index in ready.sorted() {
                if let watched = monitors[index] {
                    guard let event = try Socket.readMonitorEvent(watched.monitor) else { continue }
                    if Socket.Event.isHandshakeFailure(event.event) {
                        throw Failure(
                            description: HandshakeRefusal.description(
                                endpoint: options.coordinator, withKeys: options.keys != nil))
                    }
                    throw Failure(description: "lost the connection to the coordinator at \(options.coordinator)")
                }
                guard let member = dealers[index] else { continue }
                while !member.stopped, let frames = try member.dealer.receive(dontWait: true) {
                    let tag = try handle(frames, for: member)
                    if running, tag != .grants, tag != .ping {
                        running = false
                        roundsOnly = false
                    }
                }
            }
            if members.allSatisfy(\.stopped) { return }
            if members.contains(where: { $0.runner == nil }) {
                if Date().timeIntervalSince(started) > options.setupTimeout {
                    throw Failure(
                        description:
                            "no setup from a coordinator at \(options.coordinator) within \(WaitText.describe(options.setupTimeout)) (is it running, and expecting \(hosted)?)"
                    )
                }
            } else if members.count > 1, roundsOnly, !running {
                running = true
            }
        }
    }

    private func checkParent() throws {
        if let parent = options.parentPID, getppid() != parent {
            throw Failure(description: "the launcher (pid \(parent)) exited")
        }
    }

    /// Handles one coordinator message for `member` (STOP marks it stopped); returns its kind.
    private func handle(_ frames: [[UInt8]], for member: Member) throws -> ClusterProtocol.Tag {
        let (tag, body) = try ClusterProtocol.parse(frames)
        switch tag {
        case .setup:
            let (setup, costs, plans) = try decodeSetup(body)
            guard member.id < setup.config.clusterCount else {
                throw Failure(
                    description: "this is cluster \(member.id), but the wafer has \(setup.config.clusterCount) clusters"
                )
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
            member.runner = ClusterWindowRunner(
                engine: ClusterEngine(
                    id: member.id, config: setup.config, library: setup.library, scheduler: scheduler,
                    functional: kernels, costs: costs, planIndexes: plans))
            // The coordinator starts the run (and its clock) once every cluster has said this.
            try member.dealer.send(ClusterProtocol.frames(.ready))
        case .grant:
            try member.dealer.send(runWindow(ClusterProtocol.decodeGrant(body), for: member))
        case .grants:
            // The round's grants for several of this process's clusters: one REPORTS back.
            var grants: [(member: Member, grant: ClusterProtocol.Grant)] = []
            let (shared, items) = try ClusterProtocol.unbatchGrants(body)
            for item in items {
                // Hosted clusters are consecutive: found by index, not by search.
                let index = item.cluster - members[0].id
                guard members.indices.contains(index), case let hosted = members[index], hosted.id == item.cluster
                else {
                    throw Failure(
                        description: "granted a window for cluster \(item.cluster), which this process does not host")
                }
                grants.append((hosted, try ClusterProtocol.decodeGrant(item.body, shared: shared)))
            }
            try member.dealer.send(ClusterProtocol.batch(.reports, try runTogether(grants)))
        case .collect:
            guard let engine = member.runner?.engine else { throw Failure(description: "COLLECT before setup") }
            let end = try ClusterProtocol.decodeCycle(body)
            try member.dealer.send(ClusterProtocol.encodeStats(engine.finalStats(end: end)))
        case .stop:
            try member.dealer.send(ClusterProtocol.frames(.bye))
            member.stopped = true
        case .error:
            throw Failure(
                description: "coordinator refused cluster \(member.id): \(String(decoding: body, as: UTF8.self))")
        case .ping:
            break
        case .register, .report, .reports, .stats, .bye, .ready:
            throw Failure(description: "unexpected \(tag) message from the coordinator")
        }
        return tag
    }

    /// The setup, decoded once for every hosted cluster (the coordinator sends each the same bytes).
    private func decodeSetup(_ body: [UInt8]) throws -> (ClusterProtocol.Setup, BlockCosts, PlanIndexMemo) {
        if let setup, setup.body == body { return (setup.decoded, setup.costs, setup.plans) }
        let decoded = try ClusterProtocol.decodeSetup(body)
        let costs = BlockCosts.shared(config: decoded.config, library: decoded.library)
        let plans = PlanIndexMemo()
        setup = (body, decoded, costs, plans)
        return (decoded, costs, plans)
    }

    /// Runs `grant` on `member`'s engine; returns the REPORT to send.
    private func runWindow(_ grant: ClusterProtocol.Grant, for member: Member) throws -> [[UInt8]] {
        guard let runner = member.runner else { throw Failure(description: "window granted before setup") }
        let start = DispatchTime.now().uptimeNanoseconds
        let output: ClusterWindowReport
        do {
            output = try runner.run(
                run(grant, for: member), window: WindowPlan(index: grant.window, start: 0, end: grant.end),
                speculative: grant.speculative)
        } catch let failure as ClusterWindowRunner.Failure {
            throw Failure(description: failure.description)
        }
        return ClusterProtocol.encode(
            Self.report(output, of: grant, nanos: DispatchTime.now().uptimeNanoseconds - start))
    }

    /// Runs one round's `grants` for several hosted clusters: a speculative window's together, in
    /// one event order (``ClusterGroupRunner``: what they send each other inside the window is
    /// handed over at once), others one after the other. Returns each cluster's REPORT body.
    private func runTogether(
        _ grants: [(member: Member, grant: ClusterProtocol.Grant)]
    ) throws -> [(cluster: Int, body: [UInt8])] {
        guard let first = grants.first?.grant, first.speculative, grants.count > 1,
            grants.allSatisfy({ $0.grant.window == first.window && $0.grant.end == first.end && $0.grant.speculative })
        else {
            return try grants.map { ($0.member.id, try runWindow($0.grant, for: $0.member)[1]) }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let runs = try grants.map { member, grant in
            guard let runner = member.runner else { throw Failure(description: "window granted before setup") }
            return (runner, run(grant, for: member))
        }
        let outputs: [ClusterWindowReport]
        do {
            outputs = try ClusterGroupRunner.run(
                runs, window: WindowPlan(index: first.window, start: 0, end: first.end))
        } catch let failure as ClusterWindowRunner.Failure {
            throw Failure(description: failure.description)
        }
        // The runs were one computation: each report carries its share of the time.
        let nanos = (DispatchTime.now().uptimeNanoseconds - start) / UInt64(grants.count)
        return zip(grants, outputs).map { pair in
            (pair.0.member.id, ClusterProtocol.encode(Self.report(pair.1, of: pair.0.grant, nanos: nanos))[1])
        }
    }

    private func run(_ grant: ClusterProtocol.Grant, for member: Member) -> WindowRun {
        WindowRun(
            cluster: member.id, inputs: grant.inputs, inWindow: grant.inWindow, restore: grant.restore,
            correction: grant.correction)
    }

    private static func report(
        _ output: ClusterWindowReport, of grant: ClusterProtocol.Grant, nanos: UInt64
    ) -> ClusterProtocol.Report {
        ClusterProtocol.Report(
            window: grant.window, nextEvent: output.nextEventTime, earliestOutput: output.earliestOutput,
            events: output.events, computeNanos: nanos, absorbs: output.absorbs,
            lateAbsorption: output.lateAbsorption, envelopes: output.envelopes, trace: output.trace,
            livePeers: output.livePeers)
    }
}
