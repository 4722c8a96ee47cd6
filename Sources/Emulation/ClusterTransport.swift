import WaferModel

/// One cluster's account of a window, as the coordinator receives it.
public struct ClusterWindowReport: Sendable {
    public var cluster: Int
    public var nextEventTime: Cycle
    public var earliestOutput: Cycle
    /// Messages sent to other clusters in the window: per destination, how many and the earliest arrival.
    public var peerTraffic: [PeerTraffic]
    /// Envelopes addressed to the coordinator.
    public var toCoordinator: [Envelope]
    public var trace: [TimedTraceRecord]
    public var events: UInt64
    /// Host measurement: wall nanoseconds the cluster spent computing the window.
    public var computeNanos: UInt64

    public init(
        cluster: Int, nextEventTime: Cycle, earliestOutput: Cycle, peerTraffic: [PeerTraffic],
        toCoordinator: [Envelope], trace: [TimedTraceRecord], events: UInt64, computeNanos: UInt64
    ) {
        self.cluster = cluster
        self.nextEventTime = nextEventTime
        self.earliestOutput = earliestOutput
        self.peerTraffic = peerTraffic
        self.toCoordinator = toCoordinator
        self.trace = trace
        self.events = events
        self.computeNanos = computeNanos
    }
}

/// Count and earliest arrival of the messages one cluster sent to one peer in a window.
public struct PeerTraffic: Equatable, Sendable {
    public var destination: Int
    public var count: UInt32
    public var earliestArrival: Cycle

    public init(destination: Int, count: UInt32, earliestArrival: Cycle) {
        self.destination = destination
        self.count = count
        self.earliestArrival = earliestArrival
    }
}

/// How the coordinator reaches its clusters: function calls in one process (the oracle), or
/// ZeroMQ sockets to cluster processes. The window protocol above it is the same.
public protocol ClusterTransport: AnyObject {
    /// Runs window `plan` on the `active` clusters (ascending ids). Each first receives
    /// `fromCoordinator[c]` and every message peers sent it in earlier windows. Returns one report
    /// per active cluster, in the order of `active`. Clusters not listed have nothing to do before
    /// `plan.end`, so their state would not change and they are not disturbed.
    func runWindow(_ plan: WindowPlan, active: [Int], fromCoordinator: [[Envelope]]) throws -> [ClusterWindowReport]

    /// Each cluster's accounting up to `end`, in cluster order.
    func collectStats(end: Cycle) throws -> [ClusterStats]
}

/// All clusters in this process, driven by direct calls: no sockets, no threads. This is the
/// oracle that multi-process runs must reproduce exactly.
public final class InProcessTransport: ClusterTransport {
    public let clusters: [ClusterEngine]
    private var peerMail: [[Envelope]]

    public init(clusters: [ClusterEngine]) {
        self.clusters = clusters
        peerMail = Array(repeating: [], count: clusters.count)
    }

    public func runWindow(_ plan: WindowPlan, active: [Int], fromCoordinator: [[Envelope]]) throws
        -> [ClusterWindowReport]
    {
        // Mail sent in this window is held apart, so a cluster later in the loop never sees it early.
        var nextMail: [[Envelope]] = Array(repeating: [], count: clusters.count)
        var reports: [ClusterWindowReport] = []
        for index in active {
            let cluster = clusters[index]
            cluster.receive(fromCoordinator[index])
            cluster.receive(peerMail[index])
            peerMail[index].removeAll()
            let output = cluster.runWindow(end: plan.end)
            let routed = RoutedEnvelopes(output.envelopes)
            for (destination, mail) in routed.toClusters { nextMail[destination] += mail }
            reports.append(
                ClusterWindowReport(
                    cluster: index, nextEventTime: output.nextEventTime, earliestOutput: output.earliestOutput,
                    peerTraffic: routed.peerTraffic, toCoordinator: routed.toCoordinator,
                    trace: output.trace, events: output.events, computeNanos: 0))
        }
        for (index, mail) in nextMail.enumerated() where !mail.isEmpty { peerMail[index] += mail }
        return reports
    }

    /// Hands every cluster the peer mail held for its next window (all of it arrives in the future).
    func deliverHeldMail() {
        for index in peerMail.indices where !peerMail[index].isEmpty {
            clusters[index].receive(peerMail[index])
            peerMail[index].removeAll()
        }
    }

    public func collectStats(end: Cycle) throws -> [ClusterStats] {
        clusters.map { $0.finalStats(end: end) }
    }
}
