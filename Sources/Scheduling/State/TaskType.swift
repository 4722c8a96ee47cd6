/// A task-block type: one task block of one workflow. TBUs are configured per type.
public struct TaskType: Hashable, Codable, Comparable, Sendable, CustomStringConvertible {
    public var workflow: UInt16
    public var block: UInt16

    public init(workflow: Int, block: Int) {
        self.workflow = UInt16(workflow)
        self.block = UInt16(block)
    }

    public static func < (a: TaskType, b: TaskType) -> Bool {
        (a.workflow, a.block) < (b.workflow, b.block)
    }

    public var description: String { "\(workflow).\(block)" }
}
