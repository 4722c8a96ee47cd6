import Scheduling
import WaferModel

/// What a cluster may put in a window report, checked by the coordinator before it routes,
/// records or plans with any of it. A cluster process is another program (another build, another
/// host); whatever it sends, a mistake there must stop the run with an error that names it, not
/// crash the coordinator — or the cluster a message is routed on to.
///
/// It checks references, not state: every participant, workflow, block, operation and TBU count
/// a report names exists on this wafer (a loop frame names a loop, at an iteration it allows; a
/// fan-out frame a fan-out its block is inside); a message goes in the direction its kind travels
/// (clusters send the coordinator outcomes, loads, and — to a central queue — ready blocks and
/// releases, stalls, and each other tasks, balancing signals, transits on the mesh and credits);
/// a message or record that speaks for its sender names the sender; everything is sent inside
/// the window it was reported for and arrives no earlier than it was sent, and the report's
/// promises lie at or after the window's end; a request finishes after it was injected and a
/// block was injected before it is sent on (the coordinator subtracts the one from the other);
/// the doubles the planner computes with are finite and not negative; statistics come in the
/// shape the run gave them (the idle timeline's bins). Sums of what the clusters count saturate
/// where the coordinator forms them (``SummaryBuilder``), and a cluster's arithmetic on amounts
/// another sent it saturates too, so no count can trap either (`EnvelopeFuzzTests`). It does not
/// check that a message agrees with state elsewhere (a join for a fan-out its home never made):
/// the engines refuse those themselves.
public struct ReportCheck: Sendable {
    private let clusterCount: Int
    /// Whether the scheduler keeps a central queue (only then do clusters hand ready blocks and
    /// freed TBUs to the coordinator).
    private let centralQueue: Bool
    private let workingTBUs: [Int]
    /// Every directed link of the mesh, by index (``Mesh/linkIndex(from:to:)``).
    private let links: Set<Int>
    /// Per workflow, per block: the block's operation count (nil for a control block).
    private let operations: [[Int?]]
    /// Per workflow: its loop blocks and the most body runs each allows.
    private let loopMaxima: [[Int: Int]]
    /// Per workflow, per join block: the blocks an item of a fan-out that joins there may be at
    /// before it (the fan-outs' regions).
    private let joinRegions: [[Int: Set<Int>]]

    /// The check for `config`'s wafer running `library` under `scheduler`.
    public init(config: WaferConfig, library: WorkflowLibrary, scheduler: Scheduler) {
        centralQueue = scheduler.centralQueue != nil
        clusterCount = config.clusterCount
        let mesh = config.mesh
        workingTBUs = (0..<config.clusterCount).map(mesh.workingTBUs)
        links = Set(
            (0..<config.clusterCount).flatMap { from in
                mesh.neighbours(of: from).map { mesh.linkIndex(from: from, to: $0) }
            })
        operations = library.workflows.map { graph in
            graph.blocks.map { block in
                if case .task(let task) = block.kind { task.operations.count } else { nil }
            }
        }
        joinRegions = library.workflows.map { graph in
            let structure = WorkflowStructure(graph)
            return structure.joinOwners.mapValues { owners in
                owners.reduce(into: Set<Int>()) { $0.formUnion(structure.fanoutRegions[$1] ?? []) }
            }
        }
        loopMaxima = library.workflows.map { graph in
            var maxima: [Int: Int] = [:]
            for (index, block) in graph.blocks.enumerated() {
                if case .control(.loop(_, _, _, _, let most)) = block.kind { maxima[index] = most }
            }
            return maxima
        }
    }

    /// Why a report of `cluster` for the window `[start, end)` cannot be right, judged by its
    /// promises alone (nil when they can be): the cluster ran up to `end`, so nothing of it lies
    /// earlier.
    public func problem(nextEvent: Cycle, earliestOutput: Cycle, windowEnd end: Cycle) -> String? {
        if nextEvent < end { return "its next event at cycle \(nextEvent) lies before the window's end \(end)" }
        if earliestOutput < end {
            return "its earliest output at cycle \(earliestOutput) lies before the window's end \(end)"
        }
        return nil
    }

    /// Why `envelope`, in a report of `cluster` for the window `[start, end)`, cannot come from
    /// that cluster of this wafer (nil when it can).
    public func problem(with envelope: Envelope, from cluster: Int, window: Range<Cycle>) -> String? {
        let what = "a \(envelope.message.kindName) message to \(envelope.destination)"
        guard envelope.source == .cluster(cluster) else { return "\(what) sent by \(envelope.source)" }
        guard window.contains(envelope.sendTime), envelope.arrival >= envelope.sendTime else {
            return
                "\(what) sent at cycle \(envelope.sendTime) and arriving at \(envelope.arrival) (the window is [\(window.lowerBound), \(window.upperBound)))"
        }
        let sent = envelope.sendTime
        let problem: String?
        switch (envelope.destination, envelope.message) {
        case (.coordinator, .outcome(let outcome)):
            problem =
                workflow(Int(outcome.workflow)) ?? sender(outcome.cluster, cluster)
                ?? (outcome.injected <= outcome.finished && outcome.finished <= sent
                    ? nil
                    : "request \(outcome.request) injected at cycle \(outcome.injected) and finished at \(outcome.finished), reported at \(sent)")
        case (.coordinator, .load(let load)):
            problem = self.load(load, from: cluster)
        // (A `where` clause binds to the last pattern only: both patterns carry it.)
        case (.coordinator, .ready) where !centralQueue, (.coordinator, .release) where !centralQueue:
            return "\(what), which clusters send only to a central queue (this scheduler has none)"
        case (.coordinator, .ready(let ready)):
            problem =
                task(ready.task, sent: sent) ?? sender(ready.origin, cluster)
                ?? (ready.pinned == -1 ? nil : participant(Int(ready.pinned), "pinned cluster"))
        case (.coordinator, .release(let release)):
            problem =
                sender(release.cluster, cluster)
                ?? (Int(release.units) <= workingTBUs[cluster]
                    ? nil : "frees \(release.units) TBUs of its \(workingTBUs[cluster])")
        case (.coordinator, .stall(let stall)):
            problem =
                sender(stall.cluster, cluster)
                ?? (stall.waiting + stall.holding).lazy.compactMap { participant(Int($0.cluster), "credited cluster") }
                .first
        case (let destination, .task(let task)) where isCluster(destination):
            problem = self.task(task, sent: sent)
        case (let destination, .balance(let signal)) where isCluster(destination):
            problem = sender(signal.cluster, cluster)
        case (let destination, .transit(let transit)) where isCluster(destination):
            // Between clusters a transfer is on the mesh: it entered at its source already.
            problem =
                self.task(transit.task, sent: sent) ?? participant(Int(transit.destination), "destination")
                ?? (transit.entering
                    ? "a transit still entering the mesh (only the coordinator sends those)"
                    // (An honest tail may pass the horizon by a hop: the run stops there anyway.)
                    : transit.tail > 2 * Limits.horizon
                        ? "a transit whose last byte arrives at cycle \(transit.tail), far past the horizon" : nil)
        case (let destination, .credit(let credit)) where isCluster(destination):
            problem = sender(credit.cluster, cluster)
        default:
            return "\(what), which clusters never send"
        }
        return problem.map { "\(what): \($0)" }
    }

    /// Why `record`, in a report of `cluster`, cannot be that cluster's (nil when it can).
    public func problem(with record: TraceRecord, from cluster: Int) -> String? {
        // Trace writers and the utilisation timeline add durations to times: both stay within
        // the horizon no run passes, so no sum of them can wrap.
        let (time, span) = record.extent
        if time > Limits.horizon || span > Limits.horizon {
            return "a trace record at cycle \(time) lasting \(span) cycles, past the horizon of \(Limits.horizon)"
        }
        switch record {
        case .slice(let c, _, _, _, let kind, let type, let request):
            if let problem = sender(c, cluster) ?? taskType(type) { return "a slice: \(problem)" }
            guard kind == .operation else { return nil }
            // An operation slice names its operation's index in the block.
            guard let count = operations[Int(type.workflow)][Int(type.block)], request < UInt64(count) else {
                return "a slice of operation \(request) of \(type), which has no such operation"
            }
            return nil
        case .flowStart(let c, _, _, _), .flowEnd(let c, _, _, _), .queue(let c, _, _, _, _),
            .linkBusy(let c, _, _, _, _, _):
            return sender(c, cluster).map { "a trace record: \($0)" }
        case .rejected(let c, _, _, let type):
            return (sender(c, cluster) ?? taskType(type)).map { "a rejection: \($0)" }
        case .injected, .inFlight:
            return "a coordinator's trace record"
        }
    }

    /// Why `stats`, sent by `cluster` at the end of a run that ended at cycle `end`, cannot be that
    /// cluster's statistics on this wafer (nil when they can).
    public func problem(with stats: ClusterStats, from cluster: Int, end: Cycle) -> String? {
        if let problem = sender(Int32(clamping: stats.cluster), cluster) { return "statistics: \(problem)" }
        guard stats.tbus.count == workingTBUs[cluster] else {
            return "statistics of \(stats.tbus.count) TBUs (the cluster has \(workingTBUs[cluster]))"
        }
        if let type = stats.blockRuns.keys.first(where: { taskType($0) != nil }) {
            return "statistics: runs of a block: \(taskType(type)!)"
        }
        let named =
            Array(stats.links.bytes.keys) + Array(stats.links.transfers.keys) + Array(stats.links.occupancy.keys)
        if let link = named.first(where: { !links.contains($0) }) {
            return "statistics of link \(link), which is not a link of this wafer's mesh"
        }
        if let port = stats.links.ports.keys.first(where: { !(0..<2 * clusterCount).contains($0) }) {
            return "statistics of port \(port), which is not a port of this wafer's clusters"
        }
        // The coordinator merges the bins into its own timeline's (`timeline.csv`).
        if let idle = stats.idleTimeline {
            let width = UtilisationTimeline.binWidth(covering: end)
            guard idle.width == width, idle.starved.count == idle.unassigned.count,
                idle.starved.count <= Int(end / width) + 1
            else {
                return
                    "an idle timeline of \(idle.starved.count) and \(idle.unassigned.count) bins of \(idle.width) cycles (a run to cycle \(end) has bins of \(width))"
            }
        }
        return nil
    }

    // MARK: Parts

    private func isCluster(_ participant: ParticipantID) -> Bool {
        participant.clusterIndex.map { $0 < clusterCount } ?? false
    }

    private func participant(_ index: Int, _ role: String) -> String? {
        (0..<clusterCount).contains(index) ? nil : "its \(role) \(index) is not a cluster of this wafer"
    }

    /// A field that names the sending cluster must name it.
    private func sender(_ named: Int32, _ cluster: Int) -> String? {
        Int(named) == cluster ? nil : "it speaks for cluster \(named)"
    }

    private func workflow(_ index: Int) -> String? {
        index < operations.count ? nil : "workflow \(index) is not in the wafer's library"
    }

    private func taskType(_ type: TaskType) -> String? {
        workflow(Int(type.workflow))
            ?? (Int(type.block) < operations[Int(type.workflow)].count
                ? nil : "block \(type.block) is not a block of workflow \(type.workflow)")
    }

    private func task(_ task: TaskMessage, sent: Cycle) -> String? {
        if let problem = taskType(task.taskType) { return problem }
        // Its request's outcome will subtract the injection from the finish.
        if task.injected > sent { return "its request was injected at cycle \(task.injected), after it was sent" }
        let blocks = operations[Int(task.taskType.workflow)].count
        if let loop = task.loops.first(where: { Int($0.block) >= blocks }) {
            return "its loop block \(loop.block) is not a block of its workflow"
        }
        let loops = loopMaxima[Int(task.taskType.workflow)]
        for frame in task.loops {
            guard let most = loops[Int(frame.block)] else {
                return "its loop frame names block \(frame.block), which is not a loop"
            }
            // The loop runs its body while the iteration is below its maximum.
            if Int(frame.iteration) > most {
                return
                    "its loop block \(frame.block) is at iteration \(frame.iteration), past the loop's maximum of \(most)"
            }
        }
        // An item is inside the fan-outs of its frames, innermost last: its block in the innermost
        // one's region (or at its join), each inner fan-out's join in the region of the one around it.
        let joins = joinRegions[Int(task.taskType.workflow)]
        var inside = Int(task.taskType.block)
        for (depth, frame) in task.fanouts.reversed().enumerated() {
            if Int(frame.join) >= blocks { return "its join block \(frame.join) is not a block of its workflow" }
            if let problem = participant(Int(frame.home), "fan-out home") { return problem }
            guard let region = joins[Int(frame.join)] else {
                return "its fan-out frame names block \(frame.join) as its join, which joins no fan-out"
            }
            guard region.contains(inside) || (depth == 0 && inside == Int(frame.join)) else {
                return "block \(inside) is not inside the fan-out that joins at block \(frame.join)"
            }
            inside = Int(frame.join)
        }
        return task.credit == -1 ? nil : participant(Int(task.credit), "credited cluster")
    }

    private func load(_ load: ClusterLoad, from cluster: Int) -> String? {
        if let problem = sender(Int32(clamping: load.cluster), cluster) { return problem }
        // Placement adds waits, transfers and block times to these, and the planner sums them:
        // bounded by the horizon (2^62 cycles, 146 years at 1 GHz: no honest queue comes near
        // it), no sum of a few can wrap.
        let horizon = Int(Limits.horizon)
        guard load.tbus == workingTBUs[cluster], (0...load.tbus).contains(load.busyTBUs),
            (0...horizon).contains(load.queuedTasks), load.pendingCycles <= Limits.horizon,
            load.configurations.count <= workingTBUs[cluster]
        else {
            return
                "a load of \(load.busyTBUs) busy of \(load.tbus) TBUs, \(load.queuedTasks) queued blocks and \(load.configurations.count) configurations (the cluster has \(workingTBUs[cluster]) TBUs)"
        }
        let types =
            load.configurations.compactMap { $0 } + load.byType.map(\.taskType) + load.finished.map(\.taskType)
            + load.running + load.started.map(\.taskType)
        if let problem = types.lazy.compactMap(taskType).first { return problem }
        if load.byType.contains(where: { !(0...horizon).contains($0.queuedTasks) || $0.pendingCycles > Limits.horizon })
        {
            return "a count of queued blocks or cycles below 0 or past the horizon"
        }
        // Each run lasts at most until the horizon.
        let longest = Double(Limits.horizon)
        for runs in load.finished
        where !(runs.cycles.isFinite && runs.cycles >= 0 && runs.cycles <= Double(runs.runs) * longest)
            || !(runs.squares.isFinite && runs.squares >= 0 && runs.squares <= Double(runs.runs) * longest * longest)
        {
            return "finished runs of \(runs.taskType) with \(runs.cycles) cycles and \(runs.squares) squared"
        }
        return nil
    }
}
