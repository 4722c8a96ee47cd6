import Scheduling
import WaferModel

/// A task block of one request on its way to (or waiting in) a cluster.
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

    public init(request: UInt64, taskType: TaskType, bytes: UInt64, injected: Cycle, tasksDone: UInt32 = 0, flow: UInt64 = 0) {
        self.request = request
        self.taskType = taskType
        self.bytes = bytes
        self.injected = injected
        self.tasksDone = tasksDone
        self.flow = flow
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

    public init(request: UInt64, workflow: UInt16, injected: Cycle, finished: Cycle, status: OutcomeStatus, tasksDone: UInt32, cluster: Int32) {
        self.request = request
        self.workflow = workflow
        self.injected = injected
        self.finished = finished
        self.status = status
        self.tasksDone = tasksDone
        self.cluster = cluster
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
    /// The coordinator's published load view (coordinator → clusters).
    case view(WaferLoadView)

    /// Short name for counters.
    public var kindName: String {
        switch self {
        case .task: return "task"
        case .outcome: return "outcome"
        case .load: return "load"
        case .view: return "view"
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

    public init(source: ParticipantID, destination: ParticipantID, sendTime: Cycle, arrival: Cycle, sequence: UInt64, message: Message) {
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
