import WaferModel

/// What one cluster is to do in a window.
public struct WindowRun: Sendable {
    public var cluster: Int
    /// Envelopes handed over before the window starts (and before a speculative window's
    /// snapshot): everything the coordinator holds for the cluster from earlier windows.
    public var inputs: [Envelope]
    /// Envelopes arriving inside the window (speculation), handed over after the snapshot.
    public var inWindow: [Envelope]
    /// Start again from the snapshot taken when the cluster first ran this window.
    public var restore: Bool
    /// Before anything else (never with `restore`): bring the state to what the cluster's last
    /// speculative window left with the in-window messages it should have had.
    public var correction: WindowCorrection?

    public init(
        cluster: Int, inputs: [Envelope] = [], inWindow: [Envelope] = [], restore: Bool = false,
        correction: WindowCorrection? = nil
    ) {
        self.cluster = cluster
        self.inputs = inputs
        self.inWindow = inWindow
        self.restore = restore
        self.correction = correction
    }
}

/// A speculative window a cluster was not run again for, because only views or balancing
/// signals it would have absorbed late changed (``LateAbsorption``): what it sent and recorded
/// stands, but its state still holds what the wrong messages recorded. Before it runs on, it
/// returns to its snapshot of that window and runs it again with `inWindow` — sending nothing
/// new, which it checks.
public struct WindowCorrection: Equatable, Sendable {
    /// The window (``WindowPlan/index``) and its end.
    public var window: UInt64
    public var end: Cycle
    /// The window's in-window envelopes as committed.
    public var inWindow: [Envelope]

    public init(window: UInt64, end: Cycle, inWindow: [Envelope]) {
        self.window = window
        self.end = end
        self.inWindow = inWindow
    }
}

/// Kinds of message a cluster would absorb: take into its state without sending or recording
/// anything (``ClusterEngine/absorbs``).
public struct AbsorbedMessages: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The coordinator's load views.
    public static let views = AbsorbedMessages(rawValue: 1)
    /// Balancing signals from peers.
    public static let balanceSignals = AbsorbedMessages(rawValue: 2)
    /// Every kind there is (for validating a decoded value).
    public static let all: AbsorbedMessages = [.views, .balanceSignals]

    /// True when `message` is of a kind in this set.
    public func contains(_ message: Message) -> Bool {
        switch message {
        case .view: return contains(.views)
        case .balance: return contains(.balanceSignals)
        default: return false
        }
    }
}

/// One cluster's account of a window, as the coordinator receives it.
public struct ClusterWindowReport: Sendable {
    public var cluster: Int
    public var nextEventTime: Cycle
    public var earliestOutput: Cycle
    /// Everything the cluster sent in the window (to peers and to the coordinator).
    public var envelopes: [Envelope]
    public var trace: [TimedTraceRecord]
    public var events: UInt64
    /// Host measurement: wall nanoseconds the cluster spent computing the window.
    public var computeNanos: UInt64
    /// Messages the cluster would absorb in its present state (``ClusterEngine/absorbs``): the
    /// host may hold them until the cluster runs for another reason.
    public var absorbs: AbsorbedMessages
    /// In a speculative window: from when on a changed view or balancing signal would not have
    /// changed what the run sent or recorded.
    public var lateAbsorption: LateAbsorption
    /// The clusters run together with this one in one global event order (``ClusterGroupRunner``;
    /// itself included), whose in-window envelopes of this run it took at once instead of the
    /// copies its grant carried from their earlier runs (empty: it ran alone, with its grant's).
    public var livePeers: [Int] = []

    public init(
        cluster: Int, nextEventTime: Cycle, earliestOutput: Cycle, envelopes: [Envelope], trace: [TimedTraceRecord],
        events: UInt64, computeNanos: UInt64, absorbs: AbsorbedMessages = [], lateAbsorption: LateAbsorption = .none
    ) {
        self.absorbs = absorbs
        self.lateAbsorption = lateAbsorption
        self.cluster = cluster
        self.nextEventTime = nextEventTime
        self.earliestOutput = earliestOutput
        self.envelopes = envelopes
        self.trace = trace
        self.events = events
        self.computeNanos = computeNanos
    }
}

/// How the coordinator reaches its clusters: function calls in one process, or ZeroMQ sockets to
/// cluster processes. Every message between clusters travels with the window's grant and report
/// (one message each way per cluster per round), so the window protocol above it is the same.
public protocol ClusterTransport: AnyObject {
    /// Runs window `plan` for each of `runs` (ascending cluster ids): a cluster first takes its
    /// `inputs`; in a `speculative` window it then saves its state (or, with `restore`, returns
    /// to the state it saved when it first ran this window); it takes its `inWindow` envelopes
    /// and runs up to `plan.end`. Returns one report per run, in the order of `runs`. Clusters
    /// not listed are not disturbed.
    func run(_ plan: WindowPlan, speculative: Bool, runs: [WindowRun]) throws -> [ClusterWindowReport]

    /// Each cluster's accounting up to `end`, in cluster order.
    func collectStats(end: Cycle) throws -> [ClusterStats]

    /// Messages exchanged with cluster processes for windows so far (grants sent, reports
    /// received); 0 when the clusters run in this process.
    var windowMessages: UInt64 { get }
}

extension ClusterTransport {
    public var windowMessages: UInt64 { 0 }
}

/// All clusters in this process, driven by direct calls: no sockets, no threads.
public final class InProcessTransport: ClusterTransport {
    public let clusters: [ClusterEngine]
    private let runners: [ClusterWindowRunner]
    /// Clusters whose grants of a speculative round run together, as a process hosting them does
    /// (``ClusterGroupRunner``); by default each runs alone.
    public var groups: [Range<Int>] = []

    public init(clusters: [ClusterEngine]) {
        self.clusters = clusters
        runners = clusters.map(ClusterWindowRunner.init(engine:))
    }

    public func run(_ plan: WindowPlan, speculative: Bool, runs: [WindowRun]) throws -> [ClusterWindowReport] {
        guard speculative, !groups.isEmpty else {
            return try runs.map { try runners[$0.cluster].run($0, window: plan, speculative: speculative) }
        }
        var reports: [Int: ClusterWindowReport] = [:]
        for group in groups {
            let together = runs.filter { group.contains($0.cluster) }
            guard together.count > 1 else { continue }
            for report in try ClusterGroupRunner.run(together.map { (runners[$0.cluster], $0) }, window: plan) {
                reports[report.cluster] = report
            }
        }
        for run in runs where reports[run.cluster] == nil {
            reports[run.cluster] = try runners[run.cluster].run(run, window: plan, speculative: true)
        }
        return runs.map { reports[$0.cluster]! }
    }

    public func collectStats(end: Cycle) throws -> [ClusterStats] {
        clusters.map { $0.finalStats(end: end) }
    }
}
