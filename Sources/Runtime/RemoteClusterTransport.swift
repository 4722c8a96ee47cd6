import Emulation
import Foundation
import WaferModel
import ZeroMQ

/// Cluster processes reached over a ZeroMQ ROUTER socket: one grant out and one report back per
/// cluster per round, the envelopes between clusters travelling inside them.
final class RemoteClusterTransport: ClusterTransport {
    let router: Socket
    let clusterCount: Int
    /// Called whenever waiting takes long or something woke the poller: throws to abort the run
    /// (a signal, a dead child, an unreachable cluster).
    var healthCheck: () throws -> Void = {}
    /// Messages from peers that are not the wafer's clusters, dropped.
    private(set) var droppedMessages = 0

    /// Counts a message dropped elsewhere (between windows) for coming from no cluster of the wafer.
    func countDropped() { droppedMessages += 1 }
    let wakeDescriptor: Int32
    /// For each cluster, the first cluster of the process hosting it (itself when a process hosts
    /// one): grants for the clusters of one process go out together (GRANTS), and only that
    /// cluster's socket may report for them (REPORTS).
    var processLeader: [Int] {
        didSet {
            leadsSeveral = Set(processLeader.indices.filter { processLeader[$0] != $0 }.map { processLeader[$0] })
        }
    }
    /// The leaders of processes hosting more than one cluster: every grant for one of their
    /// clusters goes to the leader's socket, even alone, so such a process watches one socket while
    /// the wafer runs.
    private var leadsSeveral: Set<Int> = []

    /// What a report may contain on this wafer (nil: only its framing and addresses are checked).
    let reportCheck: ReportCheck?

    init(router: Socket, clusterCount: Int, wakeDescriptor: Int32, reportCheck: ReportCheck? = nil) {
        self.router = router
        self.clusterCount = clusterCount
        self.wakeDescriptor = wakeDescriptor
        self.reportCheck = reportCheck
        processLeader = Array(0..<clusterCount)
    }

    static func identity(_ cluster: Int) -> [UInt8] { Array("cluster-\(cluster)".utf8) }

    /// Grants sent and reports received for windows (``ClusterTransport/windowMessages``).
    private(set) var windowMessages: UInt64 = 0

    func send(_ cluster: Int, _ frames: [[UInt8]]) throws {
        do {
            try router.send([Self.identity(cluster)] + frames)
        } catch let error as ZMQError where error.isHostUnreachable {
            throw ClusterLost(cluster: cluster, detail: "its connection is gone")
        }
    }

    func run(_ plan: WindowPlan, speculative: Bool, runs: [WindowRun]) throws -> [ClusterWindowReport] {
        // The grants for the clusters of one process travel together, to its first cluster.
        var byProcess: [Int: [EncodedGrant]] = [:]
        var order: [Int] = []
        // A process of several clusters gets its grants as one GRANTS message, which carries each
        // view update and plan once (by leader; nil: a process of one cluster, a lone GRANT).
        var shared = [ClusterProtocol.SharedMessages?](repeating: nil, count: clusterCount)
        // A lone GRANT holds its view updates and plans: each encoded once for the round.
        var memo = ClusterProtocol.EncodedMessages()
        for run in runs {
            let grant = ClusterProtocol.Grant(
                window: plan.index, end: plan.end, speculative: speculative, restore: run.restore, inputs: run.inputs,
                inWindow: run.inWindow, correction: run.correction)
            let leader = processLeader[run.cluster]
            if byProcess[leader] == nil {
                order.append(leader)
                if leadsSeveral.contains(leader) { shared[leader] = ClusterProtocol.SharedMessages() }
            }
            byProcess[leader, default: []].append(
                EncodedGrant(
                    cluster: run.cluster, body: ClusterProtocol.encode(grant, sharing: &shared[leader], memo: &memo)))
        }
        windowMessages += UInt64(order.count)
        for leader in order {
            let grants = byProcess[leader]!
            if let table = shared[leader] {
                try send(leader, ClusterProtocol.batchGrants(grants.map { ($0.cluster, $0.body) }, shared: table))
            } else {
                try send(grants[0].cluster, ClusterProtocol.frames(.grant, grants[0].body))
            }
        }
        var expected = [Bool](repeating: false, count: clusterCount)
        for run in runs { expected[run.cluster] = true }
        var reports = [ClusterWindowReport?](repeating: nil, count: clusterCount)
        var missing = runs.count
        func take(_ cluster: Int, _ body: [UInt8]) throws {
            let report = try ClusterProtocol.decodeReport(body)
            guard report.window == plan.index, expected[cluster], reports[cluster] == nil else {
                throw WireError(
                    description: "cluster \(cluster) reported window \(report.window) during window \(plan.index)")
            }
            // A well-formed report can still name peers the wafer does not have: refused before
            // anything is routed by it.
            for envelope in report.envelopes {
                guard envelope.source == .cluster(cluster),
                    envelope.destination.clusterIndex.map({ (0..<clusterCount).contains($0) }) ?? true
                else {
                    throw WireError(
                        description:
                            "cluster \(cluster) reported an envelope from \(envelope.source) to \(envelope.destination), outside this wafer"
                    )
                }
            }
            // What it names must exist here, before anything is routed, recorded or planned by it.
            if let check = reportCheck,
                let problem = check.problem(
                    nextEvent: report.nextEvent, earliestOutput: report.earliestOutput, windowEnd: plan.end)
                    ?? report.envelopes.lazy.compactMap({
                        check.problem(with: $0, from: cluster, window: plan.start..<max(plan.start, plan.end))
                    }).first
                    ?? report.trace.lazy.compactMap({ check.problem(with: $0.record, from: cluster) }).first
            {
                throw WireError(description: "cluster \(cluster) reported \(problem) in window \(plan.index)")
            }
            // Clusters run together are of one process, and were all granted this round.
            for peer in report.livePeers {
                guard (0..<clusterCount).contains(peer), processLeader[peer] == processLeader[cluster], expected[peer]
                else {
                    throw WireError(description: "cluster \(cluster) claims to have run together with cluster \(peer)")
                }
            }
            var taken = ClusterWindowReport(
                cluster: cluster, nextEventTime: report.nextEvent, earliestOutput: report.earliestOutput,
                envelopes: report.envelopes, trace: report.trace, events: report.events,
                computeNanos: report.computeNanos, absorbs: report.absorbs, lateAbsorption: report.lateAbsorption)
            taken.livePeers = report.livePeers
            reports[cluster] = taken
            missing -= 1
        }
        try receive(
            until: { missing == 0 },
            handle: { cluster, tag, body in
                windowMessages += 1
                switch tag {
                case .report:
                    try take(cluster, body)
                case .reports:
                    // Only for clusters its process hosts, each at most once.
                    for item in try ClusterProtocol.unbatch(body) {
                        guard (0..<clusterCount).contains(item.cluster), processLeader[item.cluster] == cluster else {
                            throw WireError(description: "cluster \(cluster) reported for cluster \(item.cluster)")
                        }
                        try take(item.cluster, item.body)
                    }
                default:
                    throw WireError(description: "cluster \(cluster) sent \(tag) during a window")
                }
            })
        return runs.map { reports[$0.cluster]! }
    }

    /// One cluster's encoded grant, on its way to its process.
    private struct EncodedGrant {
        var cluster: Int
        var body: [UInt8]
    }

    func collectStats(end: Cycle) throws -> [ClusterStats] {
        for cluster in 0..<clusterCount { try send(cluster, ClusterProtocol.encodeCycle(.collect, end)) }
        var stats = [ClusterStats?](repeating: nil, count: clusterCount)
        var missing = clusterCount
        try receive(
            until: { missing == 0 },
            handle: { cluster, tag, body in
                guard tag == .stats, stats[cluster] == nil else {
                    throw WireError(description: "cluster \(cluster) sent \(tag) instead of its statistics")
                }
                let decoded = try ClusterProtocol.decodeStats(body)
                if let problem = reportCheck?.problem(with: decoded, from: cluster, end: end) {
                    throw WireError(description: "cluster \(cluster) reported \(problem)")
                }
                stats[cluster] = decoded
                missing -= 1
            })
        return stats.map { $0! }
    }

    /// Sends STOP to every cluster and waits (briefly) for their goodbyes.
    func stopAll(timeout: TimeInterval = 3) {
        var waiting = Set(0..<clusterCount)
        for cluster in 0..<clusterCount {
            if (try? send(cluster, ClusterProtocol.frames(.stop))) == nil { waiting.remove(cluster) }
        }
        let deadline = Date().addingTimeInterval(timeout)
        var poller = Poller()
        poller.add(.socket(router))
        while !waiting.isEmpty, Date() < deadline {
            guard let ready = try? poller.poll(timeoutMs: 100), !ready.isEmpty else { continue }
            while let frames = try? router.receive(dontWait: true), let cluster = Self.cluster(from: frames) {
                if let (tag, _) = try? ClusterProtocol.parse(Array(frames.dropFirst())), tag == .bye {
                    waiting.remove(cluster)
                }
            }
        }
    }

    /// Pings every cluster; a cluster whose connection is gone is reported as lost.
    func probe() throws {
        for cluster in 0..<clusterCount {
            do {
                try router.send([Self.identity(cluster)] + ClusterProtocol.frames(.ping), dontWait: true)
            } catch let error as ZMQError where error.isHostUnreachable {
                throw ClusterLost(cluster: cluster, detail: "its connection closed (process exited or network lost)")
            } catch let error as ZMQError where error.isWouldBlock {
                continue
            }
        }
    }

    static func cluster(from frames: [[UInt8]]) -> Int? {
        guard let identity = frames.first else { return nil }
        let text = String(decoding: identity, as: UTF8.self)
        guard text.hasPrefix("cluster-"), let id = Int(text.dropFirst(8)), id >= 0 else { return nil }
        return id
    }

    /// Receives cluster messages until `done()`, checking health whenever the poller wakes or a
    /// second passes without progress.
    private func receive(until done: () -> Bool, handle: (Int, ClusterProtocol.Tag, [UInt8]) throws -> Void) throws {
        var poller = Poller()
        let routerIndex = poller.add(.socket(router))
        poller.add(.fileDescriptor(wakeDescriptor))
        while !done() {
            let ready = try poller.poll(timeoutMs: 1000)
            if !ready.contains(routerIndex) {
                try healthCheck()
                try probe()
                continue
            }
            while !done(), let frames = try router.receive(dontWait: true) {
                guard let cluster = Self.cluster(from: frames), cluster < clusterCount else {
                    // Not one of the wafer's clusters: dropped and counted, never fatal.
                    droppedMessages += 1
                    continue
                }
                let (tag, body) = try ClusterProtocol.parse(Array(frames.dropFirst()))
                if tag == .register {
                    // A second process claiming a running cluster's id.
                    try? router.send(
                        [frames[0]]
                            + ClusterProtocol.frames(.error, Array("cluster \(cluster) is already running".utf8)))
                    continue
                }
                try handle(cluster, tag, body)
            }
        }
    }
}

/// A cluster process stopped answering.
public struct ClusterLost: Error, CustomStringConvertible {
    public var cluster: Int
    public var detail: String
    /// The host the cluster ran on, and the other clusters there (known once it registered).
    public var host: String?
    public var siblings: [Int] = []

    public init(cluster: Int, detail: String, host: String? = nil, siblings: [Int] = []) {
        self.cluster = cluster
        self.detail = detail
        self.host = host
        self.siblings = siblings
    }

    public var description: String {
        guard let host else { return "cluster \(cluster) lost: \(detail)" }
        let others =
            siblings.isEmpty ? "" : ", which also runs clusters \(siblings.map(String.init).joined(separator: ", "))"
        return "cluster \(cluster) on host \(host)\(others) lost: \(detail)"
    }
}
