import WaferModel

/// A real-time score-based dispatcher in the style of SDRM3 and DREAM: every free TBU takes the
/// queued block with the highest score
///
///     score = w_urgency · urgency + w_affinity · affinity + w_fairness · fairness
///
/// - urgency: 1 − slack / (slack + predicted cycles) for positive slack (slack = deadline − now −
///   predicted cycles), rising above 1 once the block is late;
/// - affinity: 1 on a TBU configured for the type, else the share of the block's time left after
///   reconfiguring (expected time on this array);
/// - fairness: how far the block's workflow lags the best-served workflow in PE-array cycles
///   received in this cluster (0 for the best served, up to 1).
///
/// The weights adapt online (multiplicative updates, renormalised to sum 3): a late block raises
/// `w_urgency`, a reconfiguration raises `w_affinity`, a block that waited more than four times
/// its own length raises `w_fairness`. The weights and the served cycles are this dispatcher's
/// state; every cluster owns its own copy.
public struct ScoreDispatch: TBUDispatchPolicy {
    public let name = "score"
    /// Never splits a block.
    public func maximumArrays(of tbus: Int) -> Int { 1 }
    public private(set) var weights: (urgency: Double, affinity: Double, fairness: Double) = (1, 1, 1)
    /// PE-array cycles handed to each workflow in this cluster.
    public private(set) var served: [UInt16: Double] = [:]
    /// Step of the multiplicative weight updates.
    public var learningRate: Double

    public init(learningRate: Double = 0.05) {
        self.learningRate = learningRate
    }

    public mutating func dispatch(
        queue: QueueView, tbus: [TBUSnapshot], context: DispatchContext
    ) -> [DispatchDecision] {
        let items = Array(queue)
        var taken = Set<Int>()
        var decisions: [DispatchDecision] = []
        for tbu in tbus where !tbu.isBusy {
            let mostServed = max(served.values.max() ?? 0, 1)
            var best: (position: Int, score: Double)?
            for (position, task) in items.enumerated() where !taken.contains(position) && tbu.accepts(task) {
                let s = score(
                    task, on: tbu, now: context.now, reconfiguration: context.reconfigurationCycles,
                    mostServed: mostServed)
                if best == nil || s > best!.score { best = (position, s) }
            }
            guard let chosen = best else { continue }
            taken.insert(chosen.position)
            decisions.append(DispatchDecision(queuePosition: chosen.position, tbu: tbu.index))
            adapt(after: items[chosen.position], on: tbu, now: context.now)
        }
        return decisions
    }

    func score(_ task: QueuedTask, on tbu: TBUSnapshot, now: Cycle, reconfiguration: Cycle, mostServed: Double)
        -> Double
    {
        let length = Double(max(task.predictedCycles, 1))
        let slack = Double(task.deadline) - Double(now) - length
        let urgency = slack >= 0 ? 1 - slack / (slack + length) : 1 + min(1, -slack / length)
        let affinity =
            task.isControl || tbu.configuredFor == task.taskType ? 1 : length / (length + Double(reconfiguration))
        let fairness = 1 - (served[task.taskType.workflow] ?? 0) / mostServed
        return weights.urgency * urgency + weights.affinity * affinity + weights.fairness * fairness
    }

    mutating func adapt(after task: QueuedTask, on tbu: TBUSnapshot, now: Cycle) {
        served[task.taskType.workflow, default: 0] += Double(task.predictedCycles)
        if now + task.predictedCycles > task.deadline { weights.urgency *= 1 + learningRate }
        if !task.isControl && tbu.configuredFor != task.taskType { weights.affinity *= 1 + learningRate }
        if now - task.enqueued > 4 * max(task.predictedCycles, 1) { weights.fairness *= 1 + learningRate }
        let total = weights.urgency + weights.affinity + weights.fairness
        weights = (3 * weights.urgency / total, 3 * weights.affinity / total, 3 * weights.fairness / total)
    }
}
