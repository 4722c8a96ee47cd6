import WaferModel

/// Credit-based flow control of task flows (`cluster.flow_credits`, docs/configuration.md,
/// "Back-pressure"): a block leaves its producer only with a credit for a slot in its destination's
/// input buffer; without one the producing TBU holds it and is blocked; the credit comes back when
/// the block starts at its destination.
extension ClusterEngine {
    /// Sends `task` to `destination` when a credit allows it, else holds it (and its TBU).
    func deliverOrHold(_ task: TaskMessage, to destination: Int, producer: Producer, at now: Cycle) {
        var task = task
        // Control blocks bound for control units wait in their own queue, not the input buffer.
        let buffered = !(isControl(task.taskType) && scheduler.controlPlane == .cbu)
        if flow != nil && buffered {
            guard flow!.trySpend(on: destination) else {
                flow!.hold(.init(task: task, destination: destination, producer: producer, tbu: producer.tbu))
                stats.heldOutputs += 1
                if let tbu = producer.tbu { pool.block(tbu, at: now, queue: queue) }
                return
            }
            task.credit = Int32(id)
        }
        deliver(task, to: destination, producer: producer, flowTime: producer.sliceStart, at: now)
    }

    /// A block holding `sender`'s credit started here: the credit goes back over the mesh (a
    /// flit: hop latencies only, never contended), or at once when the sender is this cluster.
    func returnCredit(to sender: Int, at now: Cycle) {
        if sender == id {
            core.schedule(.credit(from: Int32(id)), at: now)
        } else {
            send(
                .credit(FlowCredit(cluster: Int32(id))), to: .cluster(sender), at: now,
                latency: mesh.transferLatency(from: id, to: sender, bytes: 0))
        }
    }

    /// A credit for `destination`'s input buffer is back: held outputs leave in the order they
    /// were held, their TBUs are free again once all of theirs have left.
    func creditReturned(from destination: Int, at now: Cycle) {
        guard flow != nil else { return }
        flow!.credit(from: destination)
        let leaving = flow!.release()
        guard !leaving.isEmpty else { return }
        var freed: [Int: FlowControl.HeldOutput] = [:]
        for output in leaving {
            if let tbu = output.tbu, flow!.outputs(heldBy: tbu) == 0 { freed[tbu] = output }
        }
        for (tbu, output) in freed.sorted(by: { $0.key < $1.key }) {
            let since = pool[tbu].blockedSince
            pool.unblock(tbu, at: now, queue: queue)
            if now > since {
                core.record(
                    .slice(
                        cluster: Int32(id), unit: TraceUnit.tbu(tbu), start: since, duration: now - since,
                        kind: .blocked, taskType: output.task.taskType, request: output.task.request))
            }
        }
        // Deliveries first, then one dispatch over everything that became possible.
        dispatchDeferred = true
        for output in leaving {
            var task = output.task
            task.credit = Int32(id)
            deliver(task, to: output.destination, producer: output.producer, flowTime: now, at: now)
        }
        dispatchDeferred = false
        dispatch(at: now)
        recordQueue(at: now)
        ensureLoadTick(after: now)
    }

    /// The stall state to report at a load tick, when the coordinator must hear it: while this
    /// cluster is stalled, and once when it stops being so.
    func stallReport() -> FlowStall? {
        guard let flow else { return nil }
        let stalled = pool.count > 0 && pool.blockedCount == pool.count
        guard stalled || flow.reported?.stalled == true else { return nil }
        var holding: [Int32: UInt32] = [:]
        if stalled {
            for position in 0..<queue.count where queue[position].task.credit >= 0 {
                holding[queue[position].task.credit, default: 0] += 1
            }
        }
        let report = FlowStall(
            cluster: Int32(id), stalled: stalled, waiting: stalled ? flow.waiting : [],
            holding: holding.keys.sorted().map { CreditCount(cluster: $0, count: holding[$0]!) })
        return report == flow.reported ? nil : report
    }
}
