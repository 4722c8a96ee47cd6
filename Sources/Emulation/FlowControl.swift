import Scheduling
import WaferModel

/// A credit coming back: `cluster` started a block that held one of the receiver's credits for
/// it, so the receiver may send it another block.
public struct FlowCredit: Equatable, Sendable {
    public var cluster: Int32

    public init(cluster: Int32) { self.cluster = cluster }
}

/// A count of credits or blocks per cluster.
public struct CreditCount: Equatable, Sendable {
    public var cluster: Int32
    public var count: UInt32

    public init(cluster: Int32, count: UInt32) {
        self.cluster = cluster
        self.count = count
    }
}

/// A cluster's flow-control state as the coordinator's deadlock detection needs it, taken at a
/// load-signal period boundary (sent when it changes while the cluster is, or was, stalled).
public struct FlowStall: Equatable, Sendable {
    public var cluster: Int32
    /// Every working TBU holds an output waiting for a credit (none is free, running or
    /// reconfiguring): nothing here can start until a credit arrives.
    public var stalled: Bool
    /// The destinations its held outputs wait for, each with the credits this cluster has spent
    /// on it and not yet got back.
    public var waiting: [CreditCount]
    /// The blocks queued here that hold a credit, by the cluster that spent it.
    public var holding: [CreditCount]

    public init(cluster: Int32, stalled: Bool, waiting: [CreditCount] = [], holding: [CreditCount] = []) {
        self.cluster = cluster
        self.stalled = stalled
        self.waiting = waiting
        self.holding = holding
    }
}

/// One cluster's side of credit-based flow control (docs/configuration.md, "Back-pressure"):
/// the credits it holds for each cluster's input buffer, and the outputs waiting for one.
struct FlowControl {
    /// ``TaskMessage/credit`` of a block the coordinator injected, between its delivery and its
    /// arrival (the one kind of block a full queue may refuse under flow control).
    static let admission: Int32 = -2

    /// An output that could not leave yet: the block, where it goes, and who produced it.
    struct HeldOutput {
        var task: TaskMessage
        var destination: Int
        var producer: ClusterEngine.Producer
        /// The TBU it holds (nil: a control unit's output, which does not hold its unit).
        var tbu: Int?
    }

    /// Credits this cluster may still spend on each cluster's input buffer.
    private(set) var available: [Int]
    /// Credits spent on each destination and not yet returned.
    private(set) var spent: [Int]
    /// Outputs waiting for a credit, oldest first.
    private(set) var held: [HeldOutput] = []
    /// The last stall state reported to the coordinator.
    var reported: FlowStall?

    init(clusters: Int, credits: Int) {
        available = Array(repeating: credits, count: clusters)
        spent = Array(repeating: 0, count: clusters)
    }

    /// Spends a credit on `destination` when one is left.
    mutating func trySpend(on destination: Int) -> Bool {
        guard available[destination] > 0, held.allSatisfy({ $0.destination != destination }) else { return false }
        available[destination] -= 1
        spent[destination] += 1
        return true
    }

    mutating func hold(_ output: HeldOutput) { held.append(output) }

    /// A credit for `destination` came back.
    mutating func credit(from destination: Int) {
        available[destination] += 1
        spent[destination] -= 1
    }

    /// Takes the held outputs that can leave now, oldest first, spending their credits.
    mutating func release() -> [HeldOutput] {
        var leaving: [HeldOutput] = []
        var kept: [HeldOutput] = []
        for output in held {
            if available[output.destination] > 0 && !kept.contains(where: { $0.destination == output.destination }) {
                available[output.destination] -= 1
                spent[output.destination] += 1
                leaving.append(output)
            } else {
                kept.append(output)
            }
        }
        held = kept
        return leaving
    }

    /// How many held outputs TBU `index` still holds.
    func outputs(heldBy index: Int) -> Int { held.reduce(0) { $0 + ($1.tbu == index ? 1 : 0) } }

    /// The destinations held outputs wait for, with the credits spent on each.
    var waiting: [CreditCount] {
        Set(held.map(\.destination)).sorted().map { CreditCount(cluster: Int32($0), count: UInt32(spent[$0])) }
    }
}

/// Finds deadlocks of credit-based flow control from the clusters' stall reports (coordinator).
///
/// A set of clusters is deadlocked when each is stalled (every working TBU holds an output), each
/// waits only for clusters of the set, and every credit each has spent on such a cluster sits in a
/// block queued there (none in flight either way): nobody in the set can start a block, so no
/// credit can ever come back. Reports are taken at the same load-signal boundaries and arrive
/// together, so the test is exact.
public struct DeadlockDetector: Sendable {
    private var reports: [Int32: FlowStall] = [:]

    public init() {}

    public mutating func update(_ report: FlowStall) {
        if report.stalled { reports[report.cluster] = report } else { reports[report.cluster] = nil }
    }

    /// A cycle of clusters each waiting for the next (the first repeated at the end), or nil.
    public func deadlock() -> [Int]? {
        var members = Set(reports.keys)
        var changed = true
        while changed {
            changed = false
            for cluster in members.sorted() {
                let report = reports[cluster]!
                let stuck =
                    !report.waiting.isEmpty
                    && report.waiting.allSatisfy { wait in
                        guard members.contains(wait.cluster), let other = reports[wait.cluster] else { return false }
                        let queued = other.holding.first { $0.cluster == cluster }?.count ?? 0
                        return queued == wait.count
                    }
                if !stuck {
                    members.remove(cluster)
                    changed = true
                }
            }
        }
        guard let start = members.min() else { return nil }
        // Follow the smallest waited-for member until a cluster repeats: that loop is a cycle.
        var path: [Int32] = [start]
        var current = start
        while true {
            current = reports[current]!.waiting.map(\.cluster).filter(members.contains).min()!
            if let index = path.firstIndex(of: current) { return (path[index...] + [current]).map(Int.init) }
            path.append(current)
        }
    }
}

/// Clusters that wait for each other's credits for ever: found by the coordinator, reported as
/// the run's error.
public struct FlowDeadlock: Error, Equatable, Sendable, CustomStringConvertible {
    /// When the coordinator saw it.
    public var time: Cycle
    /// Clusters each waiting for the next, the first repeated at the end.
    public var cycle: [Int]
    public var credits: Int

    public var description: String {
        "flow-control deadlock at cycle \(time): clusters \(cycle.map(String.init).joined(separator: " → ")) each hold "
            + "outputs waiting for a credit of the next, and every TBU of each is blocked, so none can start the "
            + "blocks that would return one (cluster.flow_credits \(credits)). Give the input buffers more credits, "
            + "or let the workflow's blocks run where their successors do not loop back (docs/configuration.md, "
            + "\"Back-pressure\")"
    }
}
