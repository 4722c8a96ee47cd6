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
    /// The data the block expects, when declared (checked against what flows in).
    public var input: TensorSpec?
    /// The data the block produces, when declared (gives ``outputBytes``).
    public var output: TensorSpec?
    /// What the block computes in functional mode (nil: it has no functional kernel).
    public var function: FunctionalKernel?

    public init(
        operations: [TaskOperation], outputBytes: UInt64, next: Successor,
        input: TensorSpec? = nil, output: TensorSpec? = nil, function: FunctionalKernel? = nil
    ) {
        self.operations = operations
        self.outputBytes = outputBytes
        self.next = next
        self.input = input
        self.output = output
        self.function = function
    }

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

/// A data-dependent decision: in timing mode drawn with `probability` (per phase) from the
/// request's own seeded stream; in functional mode, when `predicate` is given, evaluated on the data.
public struct Decision: Codable, Equatable, Sendable {
    public var probability: Phased<Double>
    public var predicate: TensorPredicate?

    public init(probability: Phased<Double>, predicate: TensorPredicate? = nil) {
        self.probability = probability
        self.predicate = predicate
    }
}

/// How a loop decides whether to run its body again.
public enum LoopBound: Codable, Equatable, Sendable {
    /// The number of body runs is drawn once per entry into the loop (clamped to the loop's `max`).
    case trips(Phased<ParameterDistribution>)
    /// Before each body run, continue with this probability (a geometric trip count), up to `max`.
    case continueProbability(Phased<Double>)
}

/// How a join fires.
public enum JoinMode: String, Codable, CaseIterable, Sendable {
    /// When every item (or branch) has arrived.
    case all
    /// When the first item arrives; later ones are absorbed (their work is not cancelled).
    case any
}

/// A Control Block, evaluated on a CBU over the decoupled control plane.
public enum ControlBlock: Codable, Equatable, Sendable {
    /// Goes to `then` when the decision holds, otherwise to `otherwise`.
    case branch(Decision, then: Successor, otherwise: Successor)
    /// Runs `body` (a chain that comes back to this block) while the bound allows, at most `max`
    /// times per entry, then goes to `exit`. In functional mode `until` on the data ends it early.
    case loop(body: Int, exit: Successor, bound: LoopBound, until: TensorPredicate?, max: Int)
    /// Fans out one item per element (drawn `count` in timing mode; rows of the input selected by
    /// `countFrom` in functional mode); every item runs from `body` to `join`.
    case forEach(body: Int, join: Int, count: Phased<ParameterDistribution>, countFrom: TensorCount?)
    /// Runs every branch on the same input; they meet at `join`.
    case parallel(branches: [Int], join: Int)
    /// Where the items of a for-each or the branches of a parallel block meet.
    case join(JoinMode, next: Successor)
    /// Ends the request early (or, inside a for-each or parallel block, this item) when the
    /// decision holds; otherwise continues to `otherwise`.
    case exit(Decision, otherwise: Successor)

    /// The keyword of the block in workflow files.
    public var keyword: String {
        switch self {
        case .branch: return "branch"
        case .loop: return "loop"
        case .forEach: return "foreach"
        case .parallel: return "parallel"
        case .join: return "join"
        case .exit: return "exit"
        }
    }

    /// Every successor a request can take from this block (the join of a fan-out included: a
    /// for-each with no items goes straight past it).
    public var successors: [Successor] {
        switch self {
        case .branch(_, let then, let otherwise): return [then, otherwise]
        case .loop(let body, let exit, _, _, _): return [.block(body), exit]
        case .forEach(let body, let join, _, _): return [.block(body), .block(join)]
        case .parallel(let branches, let join): return branches.map { .block($0) } + [.block(join)]
        case .join(_, let next): return [next]
        case .exit(_, let otherwise): return [otherwise, .end]
        }
    }
}

/// One node of an Orchestrated Workflow Graph.
public struct WorkflowBlock: Codable, Equatable, Sendable {
    public enum Kind: Codable, Equatable, Sendable {
        case task(TaskBlock)
        case control(ControlBlock)
    }

    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// True for task blocks.
    @inlinable public var isTask: Bool {
        if case .task = kind { return true }
        return false
    }

    /// The block's successors in the graph.
    public var successors: [Successor] {
        switch kind {
        case .task(let task): return [task.next]
        case .control(let control): return control.successors
        }
    }
}

/// How functional mode makes the input of each request of a workflow.
public enum InputGenerator: Codable, Equatable, Sendable {
    /// Seeded values uniform in [-1, 1) of the declared input shape.
    case random
    /// A synthetic camera frame with a phase-dependent number of objects on a quiet background;
    /// each object is of class `c` with the given probabilities (class 0 first).
    case scene(objects: Phased<ParameterDistribution>, classProbabilities: Phased<[Double]>)
}

/// An Orchestrated Workflow Graph: task blocks and control blocks joined by task flows.
public struct WorkflowGraph: Codable, Equatable, Sendable {
    public var name: String
    public var description: String
    public var blocks: [WorkflowBlock]
    /// Index of the first block of every request.
    public var entry: Int
    /// Bytes each request brings onto the wafer (input of the entry block).
    public var inputBytes: UInt64
    /// The data each request brings, when declared.
    public var input: TensorSpec?
    /// How functional mode makes that data (nil: the workflow cannot run functionally).
    public var generator: InputGenerator?
    /// The phases that change the workflow's distributions over virtual time.
    public var phases: PhaseSchedule
    /// Virtual time after arrival by which a request should complete (nil: no deadline).
    public var deadlineCycles: Cycle?
    /// The group file it came from, when it belongs to one (e.g. `ar-assistant`).
    public var group: String?
    /// Parameters each request carries (`request_params:`), in name order: the order of the
    /// values in a request's task messages.
    public var requestParameters: [RequestParameter] = []
    /// Loops whose trip count is a request parameter (`trips: {request: NAME}`), by block index.
    public var requestTrips: [Int: String] = [:]

    public init(
        name: String, description: String, blocks: [WorkflowBlock], entry: Int, inputBytes: UInt64,
        input: TensorSpec? = nil, generator: InputGenerator? = nil, phases: PhaseSchedule = .constant,
        deadlineCycles: Cycle? = nil
    ) {
        self.name = name
        self.description = description
        self.blocks = blocks
        self.entry = entry
        self.inputBytes = inputBytes
        self.input = input
        self.generator = generator
        self.phases = phases
        self.deadlineCycles = deadlineCycles
    }

    /// Index of the block called `name`.
    public func index(of name: String) -> Int? { blocks.firstIndex { $0.name == name } }

    /// Position of the request parameter `name` in a request's values.
    public func requestParameterIndex(_ name: String) -> Int? { requestParameters.firstIndex { $0.name == name } }
}
