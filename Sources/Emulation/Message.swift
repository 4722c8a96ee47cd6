import Scheduling
import WaferModel

/// A loop a request is inside: which loop block, how many body runs so far, and the drawn trip
/// count (`UInt32.max` when the loop continues by probability instead).
public struct LoopFrame: Equatable, Sendable {
    public var block: UInt16
    public var iteration: UInt32
    public var trips: UInt32

    public init(block: UInt16, iteration: UInt32, trips: UInt32) {
        self.block = block
        self.iteration = iteration
        self.trips = trips
    }
}

/// A fan-out (for-each or parallel) a request's item is inside: the cluster that fanned out and
/// holds the join's state, the fan-out's id there, the item's index and the join block.
public struct FanoutFrame: Equatable, Sendable {
    public var home: Int32
    public var id: UInt32
    public var item: UInt32
    public var join: UInt16

    public init(home: Int32, id: UInt32, item: UInt32, join: UInt16) {
        self.home = home
        self.id = id
        self.item = item
        self.join = join
    }
}

/// A task block of one request (or of one item of a fan-out) on its way to (or waiting in) a cluster.
public struct TaskMessage: Equatable, Sendable {
    public var request: UInt64
    /// The block to run next (a task or a control block).
    public var taskType: TaskType
    /// Bytes of input carried by the task flow.
    public var bytes: UInt64
    /// Virtual time the request arrived at the wafer.
    public var injected: Cycle
    /// Task blocks of this request executed so far.
    public var tasksDone: UInt32
    /// Trace flow id linking the producer to the consumer (0 = none).
    public var flow: UInt64
    /// Loops the request is inside, innermost last.
    public var loops: [LoopFrame]
    /// Fan-outs this item is inside, innermost last.
    public var fanouts: [FanoutFrame]
    /// An item that could not complete (rejected at a full queue), on its way to its join.
    public var failed: Bool
    /// The data on the flow, in functional mode (nil in timing mode).
    public var payload: Tensor?
    /// The request's parameter values from a replayed trace, in the order of its workflow's
    /// `request_params` (-1: not given, drawn instead); empty when the injection gave none.
    public var parameters: [Int32]
    /// Flow control (`cluster.flow_credits`): the cluster that spent one of its credits on this
    /// block's slot in the destination's input buffer, owed back when the block starts there
    /// (-1: the block holds no credit).
    public var credit: Int32 = -1

    public init(
        request: UInt64, taskType: TaskType, bytes: UInt64, injected: Cycle, tasksDone: UInt32 = 0, flow: UInt64 = 0,
        loops: [LoopFrame] = [], fanouts: [FanoutFrame] = [], failed: Bool = false, payload: Tensor? = nil,
        parameters: [Int32] = []
    ) {
        self.parameters = parameters
        self.request = request
        self.taskType = taskType
        self.bytes = bytes
        self.injected = injected
        self.tasksDone = tasksDone
        self.flow = flow
        self.loops = loops
        self.fanouts = fanouts
        self.failed = failed
        self.payload = payload
    }
}

/// How a request ended.
public enum OutcomeStatus: UInt8, Codable, Sendable {
    case completed = 0
    /// A cluster queue was full: the request was dropped there and counted.
    case rejected = 1
}

/// The end of one request, reported by the cluster where it ended.
public struct RequestOutcome: Equatable, Sendable {
    public var request: UInt64
    public var workflow: UInt16
    public var injected: Cycle
    public var finished: Cycle
    public var status: OutcomeStatus
    public var tasksDone: UInt32
    public var cluster: Int32

    public init(
        request: UInt64, workflow: UInt16, injected: Cycle, finished: Cycle, status: OutcomeStatus, tasksDone: UInt32,
        cluster: Int32
    ) {
        self.request = request
        self.workflow = workflow
        self.injected = injected
        self.finished = finished
        self.status = status
        self.tasksDone = tasksDone
        self.cluster = cluster
    }
}

/// A block ready to run, handed to the coordinator's global queue (scheduler `fifo`).
public struct ReadyTask: Equatable, Sendable {
    public var task: TaskMessage
    /// The cluster holding its input.
    public var origin: Int32
    /// The cluster it must run on (a join runs where its fan-out's state lives), or -1 for any.
    public var pinned: Int32

    public init(task: TaskMessage, origin: Int32, pinned: Int32 = -1) {
        self.task = task
        self.origin = origin
        self.pinned = pinned
    }
}

/// TBUs a cluster has freed, for the coordinator's central queue.
public struct TBURelease: Equatable, Sendable {
    public var cluster: Int32
    public var units: UInt16

    public init(cluster: Int32, units: UInt16) {
        self.cluster = cluster
        self.units = units
    }
}

/// What travels between participants in virtual time.
public enum Message: Equatable, Sendable {
    /// A task flow: the input of a block arriving at its cluster.
    case task(TaskMessage)
    /// A request finished (cluster → coordinator).
    case outcome(RequestOutcome)
    /// A periodic load signal (cluster → coordinator).
    case load(ClusterLoad)
    /// What changed in the coordinator's load view (coordinator → clusters, each load-signal
    /// period in which something changed).
    case view(LoadViewUpdate)
    /// A new plan of the TBUs (coordinator → clusters, only when it changes).
    case plan(WaferPlan)
    /// A ready block for the global queue (cluster → coordinator, scheduler `fifo`).
    case ready(ReadyTask)
    /// TBUs a cluster has freed (cluster → coordinator, with a central queue).
    case release(TBURelease)
    /// A balancing policy's signal between clusters (neighbour loads, work requests and replies).
    case balance(BalanceSignal)
    /// A transfer moving from router to router under the contention link model (cluster →
    /// neighbour; coordinator → the source cluster of a block its central queue placed).
    case transit(Transit)
    /// A slot of the sender's input buffer freed for the receiver (flow control: cluster →
    /// the cluster whose block started there).
    case credit(FlowCredit)
    /// A cluster's flow-control stall state (cluster → coordinator, for deadlock detection).
    case stall(FlowStall)

    /// Short name for counters.
    public var kindName: String { Self.kindNames[kindIndex] }

    /// Every ``kindName``, by ``kindIndex``.
    static let kindNames: [String] =
        ["task", "outcome", "load", "view", "plan", "ready", "release"]
        + BalanceSignal.Kind.allCases.map(\.counterName) + ["transit", "credit", "stall"]

    /// The position of this message's ``kindName`` in ``kindNames`` (senders count messages by
    /// kind at every send: an index, not a string to hash).
    var kindIndex: Int {
        switch self {
        case .task: return 0
        case .outcome: return 1
        case .load: return 2
        case .view: return 3
        case .plan: return 4
        case .ready: return 5
        case .release: return 6
        case .balance(let signal): return 7 + Int(signal.kind.rawValue)
        case .transit: return 7 + BalanceSignal.Kind.allCases.count
        case .credit: return 8 + BalanceSignal.Kind.allCases.count
        case .stall: return 9 + BalanceSignal.Kind.allCases.count
        }
    }
}

/// A message with its virtual-time stamps and a per-source sequence number, which together give
/// every delivery a fixed order, whatever order the host delivers them in.
public struct Envelope: Equatable, Sendable {
    public var source: ParticipantID
    public var destination: ParticipantID
    public var sendTime: Cycle
    /// Virtual time the message is delivered (never inside the window it was sent in).
    public var arrival: Cycle
    public var sequence: UInt64
    public var message: Message

    public init(
        source: ParticipantID, destination: ParticipantID, sendTime: Cycle, arrival: Cycle, sequence: UInt64,
        message: Message
    ) {
        self.source = source
        self.destination = destination
        self.sendTime = sendTime
        self.arrival = arrival
        self.sequence = sequence
        self.message = message
    }

    /// Tie-break among deliveries at the same time: by source, then by the source's order.
    public var deliveryTieBreak: UInt64 {
        (UInt64(UInt32(bitPattern: source.rawValue &+ 1)) << 40) | (sequence & 0xFF_FFFF_FFFF)
    }
}
