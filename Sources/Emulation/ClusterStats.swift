import Scheduling
import WaferModel

/// Accounting of one TBU over a run.
public struct TBUStats: Codable, Equatable, Sendable {
    public var tasks: UInt64 = 0
    /// Cycles spent computing task blocks.
    public var busyCycles: Cycle = 0
    /// Cycles spent reconfiguring.
    public var reconfigurationCycles: Cycle = 0
    public var reconfigurations: UInt64 = 0
    /// Idle while the cluster queue was empty (waiting for input).
    public var starvedCycles: Cycle = 0
    /// Idle while work was queued but the dispatcher did not give it this TBU.
    public var unassignedCycles: Cycle = 0
    /// Holding an output that waits for a credit of its destination's input buffer (flow
    /// control, `cluster.flow_credits`; always 0 without it).
    public var blockedCycles: Cycle = 0
    /// Start times of this TBU's idle periods that ended before the run did (for contagious
    /// idleness), in time order.
    public var idleStarts: [Cycle] = []
    /// The start of the idle period still open when the run ended (nil: the TBU was not idle
    /// then). Kept apart from ``idleStarts`` so that the end-of-run statistics share the engine's
    /// log of starts instead of copying it to add one: a long run has millions.
    public var openIdleStart: Cycle?

    public init() {}
}

/// What one cluster reports at the end of a run.
public struct ClusterStats: Codable, Equatable, Sendable {
    public var cluster: Int
    public var tbus: [TBUStats]
    public var controlBlocks: UInt64 = 0
    public var cbuBusyCycles: Cycle = 0
    public var rejected: UInt64 = 0
    /// Envelopes sent, by message kind.
    public var messagesSent: [String: UInt64] = [:]
    /// Σ bytes × hops of task flows sent to other clusters.
    public var byteHops: UInt64 = 0
    /// Bytes and transfers of task flows and migrations this cluster sent, per mesh link.
    public var links = LinkTraffic()
    /// Task flows that stayed inside the cluster.
    public var localFlows: UInt64 = 0
    /// Events processed (host cost accounting; deterministic).
    public var events: UInt64 = 0
    /// Messages whose delivery quantum mode moved to a window end, and the cycles added.
    public var quantumDelayedMessages: UInt64 = 0
    public var quantumDelayCycles: Cycle = 0
    /// Messages that would have arrived inside their window in exact mode (a lookahead bug; always 0).
    public var causalityViolations: UInt64 = 0
    /// Runs of every block (task blocks on TBUs, control blocks on CBUs), by type.
    public var blockRuns: [TaskType: UInt64] = [:]
    /// Items started by for-each and parallel blocks.
    public var fanoutItems: UInt64 = 0
    /// Exit blocks that ended a request or an item early.
    public var earlyExits: UInt64 = 0
    /// Control blocks that ran on a TBU (control plane `tbu`).
    public var controlOnTBUs: UInt64 = 0
    /// Blocks split across several arrays (adaptive TBU scheduling).
    public var splits: UInt64 = 0
    /// Reconfigurations made ahead of demand for the proactive plan.
    public var proactiveReconfigurations: UInt64 = 0
    /// Queued blocks moved to another cluster by rebalancing, and their bytes × hops.
    public var migrations: UInt64 = 0
    public var migrationByteHops: UInt64 = 0
    /// Scheduling decisions taken (dispatch rounds, placements, balancing steps) and their wall time
    /// (a host measurement; it varies from run to run and never enters the results).
    public var decisions: UInt64 = 0
    public var decisionNanos: UInt64 = 0
    /// Blocks that started with their first fill already loaded (`cluster.overlap_fill`), and
    /// the cycles it saved.
    public var fillOverlapBlocks: UInt64 = 0
    public var fillOverlapCycles: UInt64 = 0
    /// Outputs that had to wait for a credit (flow control).
    public var heldOutputs: UInt64 = 0
    /// Starved and unassigned time over the run (for `timeline.csv` and reports).
    public var idleTimeline: IdleTimeline?

    public init(cluster: Int, tbus: Int) {
        self.cluster = cluster
        self.tbus = Array(repeating: TBUStats(), count: tbus)
    }
}

extension ClusterStats {
    /// Every TBU's idle starts in one list in time order (ties by TBU), with the TBU of each.
    /// Each TBU's own list is in time order, so they are merged rather than sorted: long runs have
    /// millions of idle starts, and a sort of (time, TBU) pairs would hold twice as many bytes.
    public func idleStartsInOrder() -> (times: [Cycle], tbus: [UInt32]) {
        // Each TBU's starts, its open period's last, read in place (no list is copied).
        let counts = tbus.map { $0.idleStarts.count + ($0.openIdleStart == nil ? 0 : 1) }
        func start(_ tbu: Int, _ index: Int) -> Cycle {
            index < tbus[tbu].idleStarts.count ? tbus[tbu].idleStarts[index] : tbus[tbu].openIdleStart!
        }
        let total = counts.reduce(0, +)
        var times: [Cycle] = []
        var owners: [UInt32] = []
        times.reserveCapacity(total)
        owners.reserveCapacity(total)
        let ordered = counts.indices.allSatisfy { tbu in
            (0..<max(counts[tbu] - 1, 0)).allSatisfy { start(tbu, $0) <= start(tbu, $0 + 1) }
        }
        guard ordered else {
            // Not from a run (each TBU records its idle periods one after another): sort instead.
            let pairs = counts.indices.flatMap { tbu in (0..<counts[tbu]).map { (start(tbu, $0), UInt32(tbu)) } }
                .sorted { $0 < $1 }
            return (pairs.map(\.0), pairs.map(\.1))
        }
        var next = [Int](repeating: 0, count: counts.count)
        for _ in 0..<total {
            // A handful of TBUs per cluster: scanning their heads is cheaper than a heap.
            var best = -1
            for tbu in counts.indices where next[tbu] < counts[tbu] {
                if best < 0 || start(tbu, next[tbu]) < start(best, next[best]) { best = tbu }
            }
            times.append(start(best, next[best]))
            owners.append(UInt32(best))
            next[best] += 1
        }
        return (times, owners)
    }
}
