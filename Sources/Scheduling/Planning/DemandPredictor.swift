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
///
/// The estimates live in arrays indexed by type (``types``, in type order), because `predict`
/// runs every planning period over every type and its downstream types; the dictionaries below
/// are views of them.
public struct DemandPredictor: Sendable {
    /// Weight of the newest period in the smoothed estimates.
    public var smoothing: Double
    /// Smoothed arrivals per cycle, by workflow.
    public var arrivalRate: [UInt16: Double] {
        var rates: [UInt16: Double] = [:]
        for (workflow, rate) in workflowRate.enumerated() { if let rate { rates[UInt16(workflow)] = rate } }
        return rates
    }
    /// The arrival rates by workflow index (nil: none yet), read for every type at every step.
    private var workflowRate: [Double?] = []
    /// Every type the predictor knows, in type order; the estimates are indexed like it.
    private var types: [TaskType]
    private var position: [TaskType: Int]
    /// Runs per request and cycles per run, by type index (nil: no estimate).
    private var visitEstimate: [Double?]
    private var cycleEstimate: [Double?]
    /// Indexes of the types reachable from each type.
    private var reachable: [[Int]]
    /// Task-block types reachable from each block (task or control), within its workflow.
    public let downstream: [TaskType: [TaskType]]
    /// The index of each type by workflow and block, for counting in-flight blocks without
    /// hashing: `lookup[workflowStart[w] + b]`, -1 for a type the predictor does not know.
    private var workflowStart: [Int] = []
    private var lookup: [Int] = []

    /// Runs of each type per request of its workflow.
    public var visits: [TaskType: Double] { estimates(visitEstimate) }
    /// Cycles per run of each type.
    public var cycles: [TaskType: Double] { estimates(cycleEstimate) }

    public init(
        visits: [TaskType: Double], cycles: [TaskType: Double], downstream: [TaskType: [TaskType]],
        smoothing: Double = 0.3
    ) {
        self.downstream = downstream
        self.smoothing = smoothing
        var known = Set(visits.keys).union(cycles.keys).union(downstream.keys)
        for next in downstream.values { known.formUnion(next) }
        let types = known.sorted()
        let position = Dictionary(uniqueKeysWithValues: types.enumerated().map { ($1, $0) })
        self.types = types
        self.position = position
        visitEstimate = types.map { visits[$0] }
        cycleEstimate = types.map { cycles[$0] }
        reachable = types.map { type in (downstream[type] ?? []).map { position[$0]! } }
        rebuildLookup()
    }

    private mutating func rebuildLookup() {
        var blocks: [Int] = []
        for type in types {
            let workflow = Int(type.workflow)
            if blocks.count <= workflow { blocks += Array(repeating: 0, count: workflow + 1 - blocks.count) }
            blocks[workflow] = max(blocks[workflow], Int(type.block) + 1)
        }
        workflowStart = [0]
        for count in blocks { workflowStart.append(workflowStart[workflowStart.count - 1] + count) }
        lookup = Array(repeating: -1, count: workflowStart[workflowStart.count - 1])
        for (index, type) in types.enumerated() {
            lookup[workflowStart[Int(type.workflow)] + Int(type.block)] = index
        }
    }

    /// The index of `type`, or -1 when the predictor does not know it.
    private func knownIndex(of type: TaskType) -> Int {
        let workflow = Int(type.workflow)
        guard workflow + 1 < workflowStart.count else { return -1 }
        let slot = workflowStart[workflow] + Int(type.block)
        return slot < workflowStart[workflow + 1] ? lookup[slot] : -1
    }

    private func estimates(_ values: [Double?]) -> [TaskType: Double] {
        var result: [TaskType: Double] = [:]
        for (index, value) in values.enumerated() { if let value { result[types[index]] = value } }
        return result
    }

    /// The index of `type`, added (in type order) when the predictor meets it for the first time.
    private mutating func index(of type: TaskType) -> Int {
        if let index = position[type] { return index }
        // A new type goes to its place in type order; the indexes after it move up by one.
        let index = types.firstIndex { type < $0 } ?? types.endIndex
        types.insert(type, at: index)
        visitEstimate.insert(nil, at: index)
        cycleEstimate.insert(nil, at: index)
        reachable.insert([], at: index)
        for i in reachable.indices { reachable[i] = reachable[i].map { $0 >= index && i != index ? $0 + 1 : $0 } }
        position = Dictionary(uniqueKeysWithValues: types.enumerated().map { ($1, $0) })
        rebuildLookup()
        return index
    }

    /// Folds in one planning period of `length` cycles: arrivals per workflow and, per type, runs
    /// and their total cycles.
    public mutating func observe(
        length: Cycle, arrivals: [UInt16: Int], runs: [TaskType: (runs: Double, cycles: Double)]
    ) {
        guard length > 0 else { return }
        // Every workflow with a rate or with arrivals now, each smoothed on its own.
        var workflows = workflowRate.count
        for workflow in arrivals.keys { workflows = max(workflows, Int(workflow) + 1) }
        if workflowRate.count < workflows {
            workflowRate += Array(repeating: nil, count: workflows - workflowRate.count)
        }
        for workflow in workflowRate.indices {
            let count = arrivals[UInt16(workflow)]
            guard workflowRate[workflow] != nil || count != nil else { continue }
            let rate = Double(count ?? 0) / Double(length)
            workflowRate[workflow] = (workflowRate[workflow] ?? rate) * (1 - smoothing) + rate * smoothing
        }
        for (type, observed) in runs where observed.runs > 0 {
            let index = index(of: type)
            cycleEstimate[index] =
                (cycleEstimate[index] ?? 0) * (1 - smoothing) + observed.cycles / observed.runs * smoothing
            if let count = arrivals[type.workflow], count > 0 {
                visitEstimate[index] =
                    (visitEstimate[index] ?? 0) * (1 - smoothing) + observed.runs / Double(count) * smoothing
            }
        }
    }

    /// Predicted cycles of work per type over the next `horizon` cycles, given the blocks in flight
    /// (queued or running, by type).
    public func predict(horizon: Cycle, inFlight: [TaskType: Int]) -> [TaskType: Double] {
        var counts = [Int](repeating: 0, count: types.count)
        var unknown: [TaskType] = []
        for (type, count) in inFlight where count > 0 {
            let index = knownIndex(of: type)
            if index >= 0 { counts[index] = count } else { unknown.append(type) }
        }
        var result: [TaskType: Double] = [:]
        for entry in predict(horizon: horizon, counts: counts, unknown: unknown) { result[entry.type] = entry.cycles }
        return result
    }

    /// ``predict(horizon:inFlight:)`` for the blocks queued or running in `view`, as entries in
    /// type order: the same values, counted and returned without dictionaries (the proactive
    /// planner asks every planning period).
    public func predict(horizon: Cycle, inFlightOf view: WaferLoadView) -> [TypeDemand] {
        var counts = [Int](repeating: 0, count: types.count)
        var unknown: [TaskType: Int] = [:]
        for cluster in view.clusters.indices {
            view.clusters[cluster].forEachInFlight { type, count in
                let index = knownIndex(of: type)
                if index >= 0 { counts[index] += count } else { unknown[type, default: 0] += count }
            }
        }
        return predict(horizon: horizon, counts: counts, unknown: unknown.filter { $0.value > 0 }.map(\.key))
    }

    /// The prediction for in-flight `counts` by type index and `unknown` in-flight types (the
    /// predictor has never seen them: no cycles, nothing reachable, 0 each), in type order.
    private func predict(horizon: Cycle, counts: [Int], unknown: [TaskType]) -> [TypeDemand] {
        // Accumulated by type index in the order the definition adds them (types in type order,
        // then in-flight types in type order): floating-point sums must not depend on a
        // dictionary's (per-process) order.
        var demand = [Double](repeating: 0, count: types.count)
        var present = [Bool](repeating: false, count: types.count)
        for index in types.indices {
            guard let v = visitEstimate[index] else { continue }
            let workflow = Int(types[index].workflow)
            let rate = workflow < workflowRate.count ? workflowRate[workflow] ?? 0 : 0
            let work = rate * Double(horizon) * v * (cycleEstimate[index] ?? 0)
            if work > 0 {
                demand[index] += work
                present[index] = true
            }
        }
        for index in types.indices where counts[index] > 0 {
            let count = Double(counts[index])
            demand[index] += count * (cycleEstimate[index] ?? 0)
            present[index] = true
            let base = max(visitEstimate[index] ?? 1, 1e-9)
            for next in reachable[index] {
                let ahead = count * (visitEstimate[next] ?? 0) / base * (cycleEstimate[next] ?? 0)
                if ahead > 0 {
                    demand[next] += ahead
                    present[next] = true
                }
            }
        }
        // Known types and unknown ones, merged in type order.
        var result: [TypeDemand] = []
        result.reserveCapacity(types.count + unknown.count)
        let unknown = unknown.sorted()
        var u = 0
        for index in types.indices where present[index] {
            while u < unknown.count, unknown[u] < types[index] {
                result.append(TypeDemand(type: unknown[u], cycles: 0))
                u += 1
            }
            result.append(TypeDemand(type: types[index], cycles: demand[index]))
        }
        while u < unknown.count {
            result.append(TypeDemand(type: unknown[u], cycles: 0))
            u += 1
        }
        return result
    }

    /// Weighted absolute percentage error of a prediction against what happened (0 when nothing did).
    public static func error(predicted: [TaskType: Double], actual: [TaskType: Double]) -> Double? {
        // Summed in type order over every type either side names (absent: 0).
        var entries: [(type: TaskType, predicted: Double, actual: Double)] = []
        entries.reserveCapacity(predicted.count + actual.count)
        for (type, value) in predicted { entries.append((type, value, actual[type] ?? 0)) }
        for (type, value) in actual where predicted[type] == nil { entries.append((type, 0, value)) }
        entries.sort { $0.type < $1.type }
        let total = entries.reduce(0) { $0 + $1.actual }
        guard total > 0 else { return nil }
        return entries.reduce(0) { $0 + abs($1.predicted - $1.actual) } / total
    }
}
