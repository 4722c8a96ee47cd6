/// How operands are held in a systolic PE array (SCALE-Sim's three dataflows).
public enum Dataflow: String, Codable, CaseIterable, Sendable {
    /// Output stationary: each PE accumulates one output element.
    case os
    /// Weight stationary: each PE holds one weight.
    case ws
    /// Input stationary: each PE holds one input element.
    case `is`
}
