import WaferModel

/// Predicts the PE-array work of every task-block type over a horizon, from what the coordinator
/// observes (the inputs of Proactive Cluster Scheduling):
///
/// - **arrival rates** per workflow (exponentially smoothed over planning periods);
/// - **observed branch and loop statistics**: runs of each type per request of its workflow, and
///   cycles per run, smoothed the same way (they start from the workflow's analytic expectation);
/// - **positions of in-flight requests**: every block queued or running at block `b` announces the
///   work still ahead of it in its graph, `Σ_t' visits(t') / visits(b) × cycles(t')` over the types
///   reachable from `b` — so a request that took the expensive branch or fanned out announces its
///   downstream work before it is ready.
///
/// Prediction = new arrivals × horizon × runs per request × cycles per run + announced in-flight work.
public struct DemandPredictor: Sendable {
    /// Weight of the newest period in the smoothed estimates.
    public var smoothing: Double
    public private(set) var arrivalRate: [UInt16: Double] = [:]
    public private(set) var visits: [TaskType: Double]
    public private(set) var cycles: [TaskType: Double]
    /// Task-block types reachable from each block (task or control), within its workflow.
    public let downstream: [TaskType: [TaskType]]
    /// The keys of `visits` in type order, kept as `observe` adds types: `predict` sums in this
    /// order every planning period without sorting again.
    private var visitOrder: [TaskType]

    public init(
        visits: [TaskType: Double], cycles: [TaskType: Double], downstream: [TaskType: [TaskType]],
        smoothing: Double = 0.3
    ) {
        self.visits = visits
        self.cycles = cycles
        self.downstream = downstream
        self.smoothing = smoothing
        visitOrder = visits.keys.sorted()
    }

    /// Folds in one planning period of `length` cycles: arrivals per workflow and, per type, runs
    /// and their total cycles.
    public mutating func observe(
        length: Cycle, arrivals: [UInt16: Int], runs: [TaskType: (runs: Double, cycles: Double)]
    ) {
        guard length > 0 else { return }
        let workflows = Set(arrivals.keys).union(arrivalRate.keys)
        for workflow in workflows {
            let rate = Double(arrivals[workflow] ?? 0) / Double(length)
            arrivalRate[workflow] = (arrivalRate[workflow] ?? rate) * (1 - smoothing) + rate * smoothing
        }
        for (type, observed) in runs where observed.runs > 0 {
            cycles[type] = (cycles[type] ?? 0) * (1 - smoothing) + observed.cycles / observed.runs * smoothing
            if let count = arrivals[type.workflow], count > 0 {
                if visits[type] == nil {
                    visitOrder.insert(type, at: visitOrder.firstIndex { type < $0 } ?? visitOrder.endIndex)
                }
                visits[type] = (visits[type] ?? 0) * (1 - smoothing) + observed.runs / Double(count) * smoothing
            }
        }
    }

    /// Predicted cycles of work per type over the next `horizon` cycles, given the blocks in flight
    /// (queued or running, by type).
    public func predict(horizon: Cycle, inFlight: [TaskType: Int]) -> [TaskType: Double] {
        var demand: [TaskType: Double] = [:]
        demand.reserveCapacity(visitOrder.count)
        // Sorted iteration: floating-point sums must not depend on a dictionary's (per-process) order.
        for type in visitOrder {
            let v = visits[type]!
            let rate = arrivalRate[type.workflow] ?? 0
            let work = rate * Double(horizon) * v * (cycles[type] ?? 0)
            if work > 0 { demand[type, default: 0] += work }
        }
        for (type, count) in inFlight.sorted(by: { $0.key < $1.key }) where count > 0 {
            demand[type, default: 0] += Double(count) * (cycles[type] ?? 0)
            let base = max(visits[type] ?? 1, 1e-9)
            for next in downstream[type] ?? [] {
                let ahead = Double(count) * (visits[next] ?? 0) / base * (cycles[next] ?? 0)
                if ahead > 0 { demand[next, default: 0] += ahead }
            }
        }
        return demand
    }

    /// Weighted absolute percentage error of a prediction against what happened (0 when nothing did).
    public static func error(predicted: [TaskType: Double], actual: [TaskType: Double]) -> Double? {
        let types = Set(predicted.keys).union(actual.keys).sorted()
        let total = types.reduce(0) { $0 + (actual[$1] ?? 0) }
        guard total > 0 else { return nil }
        return types.reduce(0) { $0 + abs((predicted[$1] ?? 0) - (actual[$1] ?? 0)) } / total
    }
}
