import Scheduling
import WaferModel

/// What a trace event about a block is called: the block's name (`workflow/block`) in the form
/// its record kind calls for. Both trace formats use the same words.
enum TraceLabel: Int, CaseIterable {
    case task, reconfigure, control, splitPart, blocked, rejected

    /// The label for a slice of `kind` (nil for an operation: those carry the layer's own name).
    init?(_ kind: SliceKind) {
        switch kind {
        case .task: self = .task
        case .reconfigure: self = .reconfigure
        case .control: self = .control
        case .splitPart: self = .splitPart
        case .blocked: self = .blocked
        case .operation: return nil
        }
    }

    /// The trace category of events with this label.
    var category: StaticString {
        switch self {
        case .task: return "task"
        case .reconfigure: return "reconfigure"
        case .control: return "control"
        case .splitPart: return "split"
        case .blocked: return "blocked"
        case .rejected: return "rejected"
        }
    }

    /// The label of the block named `name`.
    func text(_ name: String) -> String {
        switch self {
        case .task, .control: return name
        case .reconfigure: return "configure " + name
        case .splitPart: return name + " (split part)"
        case .blocked: return "blocked: output to " + name
        case .rejected: return "rejected " + name
        }
    }
}

/// Something a trace writer derives from a label or a layer name (its quoted bytes, its interned
/// id), made once per block and kept: most trace records name a block, and building and
/// quoting or hashing its name each time was a large part of a writer's work. Values are made
/// on first use, so a writer that numbers names as they appear numbers them in trace order.
struct TraceLabelCache<Value> {
    private let library: WorkflowLibrary
    /// Index of each workflow's first block in the flat tables below.
    private let firstBlock: [Int]
    private var labels: [[Value?]]
    private var operations: [[Value?]?]

    init(library: WorkflowLibrary) {
        self.library = library
        var offsets: [Int] = []
        var total = 0
        for workflow in library.workflows {
            offsets.append(total)
            total += workflow.blocks.count
        }
        firstBlock = offsets
        labels = Array(repeating: Array(repeating: nil, count: total), count: TraceLabel.allCases.count)
        operations = Array(repeating: nil, count: total)
    }

    /// `workflow/block` of `type`.
    func name(of type: TaskType) -> String {
        let graph = library[Int(type.workflow)]
        return "\(graph.name)/\(graph.blocks[Int(type.block)].name)"
    }

    /// The value for `label` of `type`'s block, made from the label's text on first use.
    mutating func value(_ label: TraceLabel, _ type: TaskType, make: (String) -> Value) -> Value {
        let index = firstBlock[Int(type.workflow)] + Int(type.block)
        if let known = labels[label.rawValue][index] { return known }
        let made = make(label.text(name(of: type)))
        labels[label.rawValue][index] = made
        return made
    }

    /// The value for layer `operation` of `type`'s block (nil if the block runs no layers), made
    /// from the layer's name on first use.
    mutating func operation(_ type: TaskType, _ operation: Int, make: (String) -> Value) -> Value? {
        let index = firstBlock[Int(type.workflow)] + Int(type.block)
        if let known = operations[index]?[operation] { return known }
        guard case .task(let block) = library[Int(type.workflow)].blocks[Int(type.block)].kind else { return nil }
        if operations[index] == nil { operations[index] = Array(repeating: nil, count: block.operations.count) }
        let made = make(block.operations[operation].name)
        operations[index]![operation] = made
        return made
    }
}
