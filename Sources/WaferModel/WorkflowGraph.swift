/// Where control goes after a block.
public enum Successor: Codable, Equatable, Hashable, Sendable {
    /// Block at this index of the workflow.
    case block(Int)
    /// The request is complete.
    case end
}

/// A Task Block: an AI model or a general computation, executed on one TBU.
public struct TaskBlock: Codable, Equatable, Sendable {
    /// Operations in execution order.
    public var operations: [TaskOperation]
    /// Bytes of the result that flow to the next block (the task flow).
    public var outputBytes: UInt64
    public var next: Successor

    /// Cycles of the whole block on `array` fed from `buffer`.
    public func cycles(on array: PEArrayConfig, buffer: LayerTiming.ClusterBuffer? = nil) -> Cycle {
        operations.reduce(0) { $0 + $1.cycles(on: array, buffer: buffer) }
    }

    /// True when some operation's shape is drawn per request.
    public var isDynamic: Bool {
        operations.contains { if case .model = $0 { return true } else { return false } }
    }

    /// Cycles of each operation on `array` fed from `buffer`, in order.
    public func operationCycles(on array: PEArrayConfig, buffer: LayerTiming.ClusterBuffer? = nil) -> [Cycle] {
        operations.map { $0.cycles(on: array, buffer: buffer) }
    }
}

/// A Control Block evaluated on a CBU.
public enum ControlBlock: Codable, Equatable, Sendable {
    /// Goes to `then` with `probability`, otherwise to `otherwise` (timing mode draws from the
    /// request's own seeded stream).
    case branch(probability: Double, then: Successor, otherwise: Successor)
}

/// One node of an Orchestrated Workflow Graph.
public struct WorkflowBlock: Codable, Equatable, Sendable {
    public enum Kind: Codable, Equatable, Sendable {
        case task(TaskBlock)
        case control(ControlBlock)
    }

    public var name: String
    public var kind: Kind

    /// True for task blocks.
    public var isTask: Bool {
        if case .task = kind { return true }
        return false
    }
}

/// An Orchestrated Workflow Graph: task blocks and control blocks joined by task flows.
///
/// The foundation supports chains of task blocks with probabilistic branches; the full
/// language (loops, for-each, joins, phases) extends `ControlBlock` in issue #4.
public struct WorkflowGraph: Codable, Equatable, Sendable {
    public var name: String
    public var description: String
    public var blocks: [WorkflowBlock]
    /// Index of the first block of every request.
    public var entry: Int
    /// Bytes each request brings onto the wafer (input of the entry block).
    public var inputBytes: UInt64

    /// Index of the block called `name`.
    public func index(of name: String) -> Int? { blocks.firstIndex { $0.name == name } }
}
