import WaferModel

/// A small message between clusters for balancing: what a cluster tells its peers about its
/// load, asks of them, or answers. The engines carry it without interpreting it, so a new
/// balancing policy needs no new message type.
public struct BalanceSignal: Equatable, Sendable {
    public enum Kind: UInt8, CaseIterable, Sendable {
        /// The sender's load (diffusion's neighbour signal): `cycles` pending per TBU, `count` queued blocks.
        case load = 0
        /// A request for work (work stealing): `cycles` are the requester's pending cycles.
        case request = 1
        /// The answer to a request: `count` blocks were sent.
        case reply = 2

        /// Name in message counters.
        public var counterName: String {
            switch self {
            case .load: return "neighbour-load"
            case .request: return "steal"
            case .reply: return "steal-reply"
            }
        }
    }

    public var kind: Kind
    /// The sending cluster.
    public var cluster: Int32
    public var cycles: Cycle
    public var count: UInt32

    public init(kind: Kind, cluster: Int32, cycles: Cycle, count: UInt32) {
        self.kind = kind
        self.cluster = cluster
        self.cycles = cycles
        self.count = count
    }
}

/// When the cluster engine asks its balancing policy for a decision.
public enum BalancingTrigger: Equatable, Sendable {
    /// A load-signal period boundary after a change of the cluster's state.
    case loadTick
    /// A new view or plan from the coordinator arrived.
    case view
    /// A block finished here (after the freed TBUs were given new work).
    case blockFinished
    /// A peer's signal arrived.
    case signal(BalanceSignal)
}

/// What a balancing policy sees of its cluster. The queue and the pending cycles are computed
/// only when asked for.
public struct BalancingState {
    public var cluster: Int
    public var now: Cycle
    /// TBUs of the cluster, and whether one of them is free.
    public var tbus: Int
    public var hasFreeTBU: Bool
    /// Blocks the cluster's queue holds at most.
    public var queueCapacity: Int
    /// Blocks queued now.
    public var queueCount: Int
    /// The cluster's copy of the coordinator's view, and the current plan.
    public var view: WaferLoadView
    public var plan: PlanIndex
    public var mesh: Mesh
    /// Asked for the queue and the pending cycles only when a policy reads them.
    private let source: any BalancingSource

    public init(
        cluster: Int, now: Cycle, tbus: Int, hasFreeTBU: Bool, queueCapacity: Int, queueCount: Int, view: WaferLoadView,
        plan: PlanIndex, mesh: Mesh, source: any BalancingSource
    ) {
        self.cluster = cluster
        self.now = now
        self.tbus = tbus
        self.hasFreeTBU = hasFreeTBU
        self.queueCapacity = queueCapacity
        self.queueCount = queueCount
        self.view = view
        self.plan = plan
        self.mesh = mesh
        self.source = source
    }

    /// The queue, oldest first.
    public var queue: [QueuedTask] { source.queuedTasks() }
    /// Predicted cycles of the queued blocks plus the remaining cycles of the running ones.
    public var pendingCycles: Cycle { source.pendingCycles(at: now) }
}

/// Where a ``BalancingState`` reads what only some decisions need — the queue and the pending
/// cycles — when a policy asks: a cluster engine keeps one for its whole run, so building a
/// state for each decision copies no queue and allocates nothing.
public protocol BalancingSource: AnyObject {
    /// The queue, oldest first.
    func queuedTasks() -> [QueuedTask]
    /// Predicted cycles of the queued blocks plus the remaining cycles of the running ones at `now`.
    func pendingCycles(at now: Cycle) -> Cycle
}

/// One step of a balancing decision, applied by the engine in order.
public enum BalancingAction: Equatable, Sendable {
    /// Send the queued blocks at these positions to another cluster. Positions refer to the queue
    /// as the previous actions of the same decision left it.
    case migrate(positions: [Int], to: Int)
    /// Send a signal to a cluster (latency: the mesh route with no payload).
    case signal(BalanceSignal, to: Int)
}

/// A balancing policy's answer to one trigger.
public struct BalancingDecision: Equatable, Sendable {
    public var actions: [BalancingAction]
    /// True when the policy took a scheduling decision (counted in the summary's `decisions`).
    public var counted: Bool

    public init(actions: [BalancingAction] = [], counted: Bool = false) {
        self.actions = actions
        self.counted = counted
    }

    /// Nothing to do.
    public static let none = BalancingDecision()
}

/// How queued work moves between clusters after placement (work stealing, diffusion, …). A value
/// that every cluster owns a copy of; it keeps whatever it learns of its peers.
///
/// The contract the cluster engine relies on:
/// - **Deterministic**: decisions depend only on the triggers, the state and the policy's own
///   state.
/// - **Sends only when asked.** A policy sends (migrations, signals) only from ``react(to:state:)``.
///   If it may send in answer to `.view` or `.signal` triggers, ``actsOnMessages`` must be true:
///   the cluster's earliest-output promise then counts every pending view or peer signal as a
///   possible send at its arrival. A policy that sent on messages while declaring false would
///   break causality.
/// - Migrations name queue positions that exist; control blocks should stay (they belong to
///   their cluster's CBUs or join state).
public protocol BalancingPolicy: Sendable {
    var name: String { get }
    /// True when ``react(to:state:)`` may return actions for `.view` or `.signal` triggers.
    var actsOnMessages: Bool { get }
    mutating func react(to trigger: BalancingTrigger, state: BalancingState) -> BalancingDecision
    /// False when ``react(to:state:)`` would return ``BalancingDecision/none`` and change nothing
    /// for `trigger` with `queueCount` blocks queued (the engine then skips building its state,
    /// which is most of what a decision costs).
    func reacts(to trigger: BalancingTrigger, queueCount: Int) -> Bool
    /// True when ``react(to:state:)`` for `trigger` with `queueCount` blocks queued is certain to
    /// return no actions, whatever the rest of the state (it may still update the policy's own
    /// state, as diffusion records a neighbour's load). The engine then lets its host hold such
    /// messages for an idle cluster until it runs anyway (``ClusterEngine/absorbs``). The
    /// default, false, is always safe.
    func isQuiet(on trigger: BalancingTrigger, queueCount: Int) -> Bool
    /// What ``react(to:state:)``, ``reacts(to:queueCount:)`` and ``isQuiet(on:queueCount:)`` for
    /// `trigger` with `queueCount` blocks queued may read of the state that messages only record:
    /// the cluster's copy of the coordinator's view (``BalancingState/view``), and what the policy
    /// keeps of its peers' signals (the part of its own state a signal it ``isQuiet(on:queueCount:)``
    /// on may change — the only part it may change). Speculative windows rely on it: a cluster
    /// that read neither after a changed view or quiet signal arrived sent and traced exactly what
    /// it would have with the right one (``LateAbsorption``). The default, everything, is always
    /// safe.
    func reads(on trigger: BalancingTrigger, queueCount: Int) -> RecordedState
}

extension BalancingPolicy {
    public func reacts(to trigger: BalancingTrigger, queueCount: Int) -> Bool { true }
    public func isQuiet(on trigger: BalancingTrigger, queueCount: Int) -> Bool { false }
    public func reads(on trigger: BalancingTrigger, queueCount: Int) -> RecordedState { .all }
}

/// Parts of a cluster's state that messages only record, for ``BalancingPolicy/reads(on:queueCount:)``.
public struct RecordedState: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The cluster's copy of the coordinator's load view.
    public static let view = RecordedState(rawValue: 1)
    /// What the balancing policy keeps of its peers' signals.
    public static let peerSignals = RecordedState(rawValue: 2)
    /// Both.
    public static let all: RecordedState = [.view, .peerSignals]
}

/// No rebalancing: blocks stay where placement put them.
public struct NoBalancing: BalancingPolicy {
    public let name = "none"
    public let actsOnMessages = false

    public init() {}

    public func react(to trigger: BalancingTrigger, state: BalancingState) -> BalancingDecision { .none }
    public func reacts(to trigger: BalancingTrigger, queueCount: Int) -> Bool { false }
    public func isQuiet(on trigger: BalancingTrigger, queueCount: Int) -> Bool { true }
    public func reads(on trigger: BalancingTrigger, queueCount: Int) -> RecordedState { [] }
}
