import Scheduling
import WaferModel

/// How a cluster acts on the workflow's decisions: task flows to their next block, request
/// outcomes to the coordinator, failed items to their joins.
extension ClusterEngine {
    /// Carries out `actions` in order. `producer` is the slice whose output they carry (nil for a
    /// block rejected on arrival, which carries no flow arrow).
    func perform(_ actions: [WorkflowAction], producer: Producer?, at now: Cycle) {
        for action in actions {
            switch action {
            case .run(let next):
                forward(next, producer: producer!, at: now)
            case .finish(let task, let status):
                let outcome = RequestOutcome(
                    request: task.request, workflow: task.taskType.workflow, injected: task.injected,
                    finished: now, status: status, tasksDone: task.tasksDone, cluster: Int32(id))
                send(.outcome(outcome), to: .coordinator, at: now, latency: config.controlLatency)
            case .failedItem(let failed, let home):
                if router.usesCentralQueue {
                    send(
                        .ready(ReadyTask(task: failed, origin: Int32(id), pinned: Int32(home))), to: .coordinator,
                        at: now,
                        latency: config.controlLatency)
                } else if home == id {
                    arrive(failed, at: now)
                } else {
                    send(.task(failed), to: .cluster(home), at: now, latency: config.controlLatency)
                }
            }
        }
    }

    /// Sends the request on to its next block, wherever the router says it runs.
    private func forward(_ next: TaskMessage, producer: Producer, at now: Cycle) {
        var next = next
        let route = router.route(next) { policy in
            absorptionTracker?.matter(.view, at: now)  // placement reads the view
            let transfers = self.transfers  // built at the first placement: set-up, not deciding
            let clock = DecisionClock()
            let key = policy.usesRequestKey ? interpreter.placementKey(next) : 0
            let request = PlacementRequest(
                taskType: next.taskType, predictedCycles: costs[next.taskType], inputBytes: next.bytes, origin: id,
                key: key)
            let cluster = policy.place(
                request,
                in: PlacementContext(
                    view: view, plan: planIndex, mesh: mesh,
                    reconfigurationCycles: config.cluster.reconfigurationCycles, transfers: transfers))
            stats.decisions += 1
            stats.decisionNanos += clock.elapsed
            return cluster
        }
        switch route {
        case .coordinator(let pinned):
            next.flow = router.nextFlow()
            core.record(
                .flowStart(cluster: Int32(id), unit: producer.unit, time: producer.sliceStart, flow: next.flow))
            send(
                .ready(ReadyTask(task: next, origin: Int32(id), pinned: pinned)), to: .coordinator, at: now,
                latency: config.controlLatency)
        case .local:
            notePlaced(cycles: costs[next.taskType], on: id)
            deliverOrHold(next, to: id, producer: producer, at: now)
        case .peer(let destination):
            notePlaced(cycles: costs[next.taskType], on: destination)
            deliverOrHold(next, to: destination, producer: producer, at: now)
        }
    }

    /// Hands `task` to this cluster's queue or sends it to `destination`'s. `flowTime` is where
    /// the trace's flow arrow starts (the producing slice; a held output: when it left).
    func deliver(_ task: TaskMessage, to destination: Int, producer: Producer, flowTime: Cycle, at now: Cycle) {
        guard destination != id else {
            stats.localFlows += 1
            arrive(task, at: now)
            return
        }
        var next = task
        next.flow = router.nextFlow()
        core.record(.flowStart(cluster: Int32(id), unit: producer.unit, time: flowTime, flow: next.flow))
        stats.byteHops = stats.byteHops.adding(next.bytes.multiplying(UInt64(mesh.distance(from: id, to: destination))))
        stats.links.add(next.bytes, from: id, to: destination, mesh: mesh)
        sendOverMesh(next, to: destination, at: now)
    }

    // MARK: Plans and rebalancing

    /// A new plan from the coordinator: replaces the plan (its index is built when a decision
    /// first reads it) and prepares idle TBUs for the types the plan wishes here.
    func receivePlan(_ published: WaferPlan, at now: Cycle) {
        if published.epoch != plan.epoch {
            replacePlan(with: published)
            if id < published.configure.count {
                for (index, wanted) in published.configure[id].enumerated() where index < pool.count {
                    guard let wanted, pool[index].isFree, pool[index].configuredFor != wanted else { continue }
                    // Reconfigure ahead of demand, off the critical path of any block.
                    pool.closeIdle(index, at: now, queue: queue)
                    let cost = configure(index, for: wanted, at: now, request: 0)
                    pool.startPreparing(index)
                    stats.proactiveReconfigurations += 1
                    core.schedule(.tbuReady(index), at: now + cost)
                }
            }
            dispatch(at: now)
        }
        balance(.view, at: now)
    }

    /// Notes in the view that `cycles` of work were just sent to `cluster` (until the next update).
    func notePlaced(cycles: Cycle, on cluster: Int) {
        view.notePlaced(cycles: cycles, on: cluster)
        viewNotes.append(ViewNote(cluster: cluster, cycles: cycles))
    }

    /// Applies a published update: the local notes give way to what the coordinator now knows.
    /// They are taken back out of the view first (exact integer arithmetic), so the view is
    /// updated in place. Keeping the published view apart and copying it made the next note copy
    /// every cluster's entry, a twentieth of a one-process run.
    func applyView(_ update: LoadViewUpdate) {
        for note in viewNotes.reversed() { view.takeBack(cycles: note.cycles, on: note.cluster) }
        viewNotes.removeAll(keepingCapacity: true)
        view.apply(update)
        #if DEBUG
            // The tests hold every update of every run to the plain copy.
            publishedView.apply(update)
            assert(view == publishedView, "cluster \(id)'s view differs from the published view after an update")
        #endif
    }

    /// Asks the balancing policy what to do about `trigger`, and does it.
    func balance(_ trigger: BalancingTrigger, at now: Cycle) {
        // A cluster without working TBUs holds no work to balance.
        guard pool.count > 0 else { return }
        absorptionTracker?.matter(balancer.reads(on: trigger, queueCount: queue.count), at: now)
        guard balancer.reacts(to: trigger, queueCount: queue.count) else { return }
        let clock = DecisionClock()
        let state = BalancingState(
            cluster: id, now: now, tbus: pool.count, hasFreeTBU: pool.hasFree,
            queueCapacity: config.cluster.queueCapacity,
            queueCount: queue.count, view: view, plan: planIndex, mesh: mesh, source: balancingSource)
        let decision = balancer.react(to: trigger, state: state)
        if decision.counted {
            stats.decisions += 1
            stats.decisionNanos += clock.elapsed
        }
        for action in decision.actions {
            switch action {
            case .migrate(let positions, let target):
                migrate(positions: positions, to: target, at: now)
            case .signal(let signal, let target):
                send(
                    .balance(signal), to: .cluster(target), at: now,
                    latency: mesh.transferLatency(from: id, to: target, bytes: 0))
            }
        }
    }

    /// Moves the queued blocks at `positions` to cluster `target`, counting the migration's bytes × hops.
    private func migrate(positions: [Int], to target: Int, at now: Cycle) {
        // A block holding a credit stays in the buffer its sender reserved (flow control). The
        // shipped policies never choose one (``QueuedTask/movable``); a custom policy might.
        let positions = positions.filter { queue[$0].task.credit < 0 }
        guard !positions.isEmpty else { return }
        for block in queue.remove(at: positions.sorted(by: >), at: now) {
            stats.migrations += 1
            stats.migrationByteHops = stats.migrationByteHops.adding(
                block.task.bytes.multiplying(UInt64(mesh.distance(from: id, to: target))))
            stats.links.add(block.task.bytes, from: id, to: target, mesh: mesh)
            notePlaced(cycles: block.info.predictedCycles, on: target)
            sendOverMesh(block.task, to: target, at: now)
        }
        recordQueue(at: now)
        ensureLoadTick(after: now)
    }

    // MARK: Lookahead

    /// A lower bound on the time of this cluster's next send, from its state now. Sends happen only
    /// when a block finishes (task flow, request outcome, released TBUs), at a load tick, when an
    /// arrival is rejected at a full queue, when a transfer passes the router, and — when the balancing policy acts on messages — when
    /// a view or a peer's signal arrives.
    func earliestOutput() -> Cycle {
        var bound = Cycle.never
        let next = core.nextEventTime
        let rejectionPossible =
            queue.count + pendingArrivals > config.cluster.queueCapacity && !router.usesCentralQueue
            && config.queuesReject
        let reactsToMessages = balancer.actsOnMessages
        let overlapsFill = config.cluster.overlapsFill
        // A block split across the most arrays the dispatch policy uses finishes no sooner than its
        // single-array time divided by them (the policy's contract).
        let divisor = Cycle(dispatcher.maximumArrays(of: pool.count))
        for (key, event) in core.events.unordered {
            switch event {
            case .tbuDone, .cbuDone, .loadTick:
                bound = min(bound, key.time)
            case .arrival(let task):
                // With flow control the block may start at once and return its credit.
                if flow != nil { bound = min(bound, key.time) }
                let control = isControl(task.taskType)
                let shortest = costs[task.taskType] - (overlapsFill ? costs.table.firstFill(task.taskType) : 0)
                bound = min(bound, rejectionPossible && !control ? key.time : key.time.adding(shortest / divisor))
                // An arrival schedules a load signal at the next period boundary.
                if !signaller.tickScheduled { bound = min(bound, signaller.nextBoundary(after: key.time)) }
            case .view, .plan, .peer:
                if reactsToMessages { bound = min(bound, key.time) }
            case .transit, .credit:
                // Moves on (or arrives here) at once; a credit lets held outputs leave at once.
                bound = min(bound, key.time)
            case .tbuReady:
                break
            }
        }
        // Queued work starts no earlier than the next event here (or an arrival, which the
        // synchronizer accounts for separately).
        // With flow control a queued block that starts returns its credit at once.
        if flow != nil && !queue.isEmpty { bound = min(bound, next) }
        if let shortest = queue.shortestPredicted {
            // A block may start with its first fill already loaded (cluster.overlap_fill).
            let fill = overlapsFill ? min(shortest, costs.table.maximumFirstFill) : 0
            bound = min(bound, next.adding((shortest - fill) / divisor))
        }
        if !cbus.queue.isEmpty { bound = min(bound, next.adding(costs.table.controlBlockCycles)) }
        return bound
    }
}
