import Scheduling
import WaferModel

/// What happens to a request next, as the workflow graph decides it.
enum WorkflowAction: Equatable {
    /// Run the block `task.taskType` next, with `task.bytes` of input (placement decides where).
    case run(TaskMessage)
    /// The request ends here.
    case finish(TaskMessage, OutcomeStatus)
    /// An item that cannot go on travels to its fan-out's join, at cluster `home`, as failed, so
    /// the join still accounts for it.
    case failedItem(TaskMessage, home: Int)
}

/// Interprets the Orchestrated Workflow Graph for one cluster: turns a finished block into what
/// happens next — follow the successor, take a branch, iterate a loop, fan out (for-each,
/// parallel), meet at a join, exit early, or fail. Decisions draw from the request's own random
/// streams (or, in functional mode, look at the data), so they are the same on every host. It
/// keeps the state of the joins whose fan-outs started here; it knows nothing of queues, TBUs or
/// where blocks run.
struct WorkflowInterpreter {
    let cluster: Int
    let library: WorkflowLibrary
    let streams: RequestStreams
    /// Computes on real tensors in functional mode (nil: timing mode).
    let functional: (any FunctionalExecutor)?

    /// A fan-out waiting at its join on this cluster.
    struct JoinKey: Hashable {
        var request: UInt64
        var id: UInt32
    }

    struct JoinState {
        var mode: JoinMode
        var expected: Int
        var arrived = 0
        var failed = 0
        var fired = false
        /// Task blocks the request had run before fanning out, and those its items ran since.
        var baseTasks: UInt32
        var itemTasks: UInt32 = 0
        /// Item outputs by item index (functional mode).
        var outputs: [Tensor?]
    }

    private var joins: [JoinKey: JoinState] = [:]
    private var fanoutCounter: UInt32 = 0
    /// Items started by fan-outs here, and exits that ended a request or item early.
    private(set) var fanoutItems: UInt64 = 0
    private(set) var earlyExits: UInt64 = 0
    /// Join arrivals that match no join state here: impossible in an execution that is committed,
    /// possible in a speculative run handed another run's stale items.
    private(set) var inconsistentInputs: UInt64 = 0

    init(cluster: Int, library: WorkflowLibrary, streams: RequestStreams, functional: (any FunctionalExecutor)?) {
        self.cluster = cluster
        self.library = library
        self.streams = streams
        self.functional = functional
    }

    /// Joins waiting for items.
    var openJoins: Int { joins.count }

    // MARK: Entry points

    /// Task block `task.taskType` finished: its request follows the block's successor.
    mutating func finishedTask(_ task: TaskMessage) -> [WorkflowAction] {
        var task = task
        task.tasksDone = Self.sum(task.tasksDone, 1)
        guard case .task(let block) = library[Int(task.taskType.workflow)].blocks[Int(task.taskType.block)].kind else {
            preconditionFailure("not a task block")
        }
        var actions: [WorkflowAction] = []
        follow(block.next, from: task, outputBytes: block.outputBytes, into: &actions)
        return actions
    }

    /// Control block `task.taskType` finished (on a CBU or a TBU): act on its decision.
    mutating func decided(_ task: TaskMessage) -> [WorkflowAction] {
        let blockIndex = Int(task.taskType.block)
        guard case .control(let control) = library[Int(task.taskType.workflow)].blocks[blockIndex].kind else {
            preconditionFailure("a task block completed as control")
        }
        var actions: [WorkflowAction] = []
        switch control {
        case .branch(let decision, let then, let otherwise):
            follow(decide(decision, for: task) ? then : otherwise, from: task, outputBytes: task.bytes, into: &actions)
        case .exit(let decision, let otherwise):
            if decide(decision, for: task) {
                earlyExits += 1
                if let frame = task.fanouts.last {
                    follow(.block(Int(frame.join)), from: task, outputBytes: task.bytes, into: &actions)
                } else {
                    actions.append(.finish(task, .completed))
                }
            } else {
                follow(otherwise, from: task, outputBytes: task.bytes, into: &actions)
            }
        case .loop(let body, let exit, let bound, let until, let maximum):
            loop(
                task, block: blockIndex, body: body, exit: exit, bound: bound, until: until, maximum: maximum,
                into: &actions)
        case .forEach(let body, let join, let count, let countFrom):
            var items: [Tensor?]
            if functional != nil, let countFrom, let data = task.payload {
                items = countFrom.items(of: data).map { data.item($0) }
            } else {
                var rng = streams.stream(for: task, .fanoutCount)
                let n = count[streams.phase(of: task)].sample(&rng)
                items = Array(repeating: nil, count: n)
                if let data = task.payload, functional != nil {
                    // Timing-drawn count over real data: items take the first rows available.
                    items = (0..<n).map { data.rows > 0 ? data.item($0 % data.rows) : nil }
                }
            }
            fanOut(
                task, targets: Array(repeating: body, count: items.count), payloads: items, splitsInput: true,
                join: join, into: &actions)
        case .parallel(let branches, let join):
            fanOut(
                task, targets: branches, payloads: Array(repeating: task.payload, count: branches.count),
                splitsInput: false, join: join,
                into: &actions)
        case .join(let mode, let next):
            arriveAtJoin(task, mode: mode, next: next, into: &actions)
        }
        return actions
    }

    /// Work that cannot go on: inside a fan-out the item goes to its join as failed, so the join
    /// still accounts for every item; otherwise the request ends rejected.
    static func fail(_ task: TaskMessage) -> WorkflowAction {
        guard let frame = task.fanouts.last else { return .finish(task, .rejected) }
        var failed = task
        failed.failed = true
        failed.payload = nil
        failed.taskType = TaskType(workflow: Int(task.taskType.workflow), block: Int(frame.join))
        failed.flow = 0
        return .failedItem(failed, home: Int(frame.home))
    }

    /// `a + b`, saturating: counts of blocks done travel in other clusters' messages, which must
    /// not be able to trap this one (an honest request runs far fewer than 2^32 blocks).
    static func sum(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : total
    }

    /// The key of a request's position (loop iterations and fan-out items included) for
    /// load-oblivious replica choices.
    func placementKey(_ task: TaskMessage) -> UInt64 {
        var rng = streams.stream(for: task, .placement)
        return rng.next()
    }

    // MARK: Graph

    /// The request goes on to `successor`: a block (with `outputBytes` of input) or its end.
    private func follow(
        _ successor: Successor, from task: TaskMessage, outputBytes: UInt64, into actions: inout [WorkflowAction]
    ) {
        guard case .block(let blockIndex) = successor else {
            precondition(task.fanouts.isEmpty, "an item ended its request before its join (validation prevents this)")
            actions.append(.finish(task, .completed))
            return
        }
        var next = task
        next.taskType = TaskType(workflow: Int(task.taskType.workflow), block: blockIndex)
        next.bytes = outputBytes
        next.flow = 0
        actions.append(.run(next))
    }

    /// A decision on the data (functional mode, when the block has a predicate) or drawn with the
    /// phase's probability.
    private func decide(_ decision: Decision, for task: TaskMessage) -> Bool {
        if functional != nil, let predicate = decision.predicate, let data = task.payload {
            return predicate.holds(for: data)
        }
        var rng = streams.stream(for: task, .branch)
        return rng.nextUnit() < decision.probability[streams.phase(of: task)]
    }

    private func loop(
        _ task: TaskMessage, block: Int, body: Int, exit: Successor, bound: LoopBound, until: TensorPredicate?,
        maximum: Int,
        into actions: inout [WorkflowAction]
    ) {
        var task = task
        if let last = task.loops.last, last.block == UInt16(block) {
            task.loops[task.loops.count - 1].iteration = Self.sum(last.iteration, 1)
        } else {
            var trips = UInt32.max
            if case .trips(let distribution) = bound {
                var rng = streams.stream(for: task, .loopTrips)
                let phased = distribution[streams.phase(of: task)]
                trips = UInt32(phased.sample(&rng))
                // A trip count the request brings (clamped into the parameter's range).
                if let name = library[Int(task.taskType.workflow)].requestTrips[block],
                    let index = library[Int(task.taskType.workflow)].requestParameterIndex(name)
                {
                    trips = UInt32(phased.clamp(streams.requestParameter(index, of: task)))
                }
            }
            task.loops.append(LoopFrame(block: UInt16(block), iteration: 0, trips: trips))
        }
        let frame = task.loops[task.loops.count - 1]
        var again = frame.iteration < UInt32(maximum)
        if again {
            if functional != nil, let until, let data = task.payload {
                again = !until.holds(for: data)
            } else if case .continueProbability(let p) = bound {
                var rng = streams.stream(for: task, .loopContinue)
                again = rng.nextUnit() < p[streams.phase(of: task)]
            } else {
                again = frame.iteration < frame.trips
            }
        }
        if again {
            follow(.block(body), from: task, outputBytes: task.bytes, into: &actions)
        } else {
            task.loops.removeLast()
            follow(exit, from: task, outputBytes: task.bytes, into: &actions)
        }
    }

    /// Starts one item per target; the join's state lives here, on the cluster that fanned out.
    private mutating func fanOut(
        _ task: TaskMessage, targets: [Int], payloads: [Tensor?], splitsInput: Bool, join: Int,
        into actions: inout [WorkflowAction]
    ) {
        guard case .control(.join(let mode, let next)) = library[Int(task.taskType.workflow)].blocks[join].kind else {
            preconditionFailure("fan-out without a join")
        }
        guard !targets.isEmpty else {
            // Nothing to wait for: straight past the join.
            var passed = task
            passed.payload =
                functional != nil
                ? Tensor(shape: [0] + (task.payload.map { Array($0.shape.dropFirst()) } ?? []), values: []) : nil
            follow(next, from: passed, outputBytes: 0, into: &actions)
            return
        }
        fanoutCounter &+= 1
        joins[JoinKey(request: task.request, id: fanoutCounter)] = JoinState(
            mode: mode, expected: targets.count, baseTasks: task.tasksDone,
            outputs: Array(repeating: nil, count: targets.count))
        fanoutItems += UInt64(targets.count)
        // A for-each splits its input into rows; parallel branches each receive all of it.
        let itemBytes = splitsInput && task.bytes > 0 ? max(1, task.bytes / UInt64(targets.count)) : task.bytes
        for (item, target) in targets.enumerated() {
            var next = task
            next.fanouts.append(
                FanoutFrame(home: Int32(cluster), id: fanoutCounter, item: UInt32(item), join: UInt16(join)))
            next.payload = payloads[item]
            // Flow sizes come from the declared shapes in both modes, so timing never depends on
            // how functional mode represents the data.
            follow(.block(target), from: next, outputBytes: itemBytes, into: &actions)
        }
    }

    private mutating func arriveAtJoin(
        _ task: TaskMessage, mode: JoinMode, next: Successor, into actions: inout [WorkflowAction]
    ) {
        // Inside a speculative window a run may be handed items from another cluster's run that the
        // final execution will not produce (a fan-out numbered differently, one not yet made); they
        // are counted and ignored, and that run is never the one committed. In a committed
        // execution these never happen (the host checks).
        guard let frame = task.fanouts.last, frame.home == Int32(cluster),
            var state = joins[JoinKey(request: task.request, id: frame.id)],
            Int(frame.item) < state.outputs.count, task.tasksDone >= state.baseTasks, state.arrived < state.expected
        else {
            inconsistentInputs += 1
            return
        }
        let key = JoinKey(request: task.request, id: frame.id)
        state.arrived += 1
        state.itemTasks = Self.sum(state.itemTasks, task.tasksDone - state.baseTasks)
        if task.failed { state.failed += 1 } else { state.outputs[Int(frame.item)] = task.payload }
        var out = task
        out.fanouts.removeLast()
        out.failed = false
        out.tasksDone = Self.sum(state.baseTasks, state.itemTasks)
        let complete = state.arrived == state.expected
        if !state.fired {
            let fire = mode == .any ? !task.failed : complete
            if fire {
                state.fired = true
                if mode == .all && state.failed > 0 {
                    actions.append(Self.fail(out))
                } else {
                    if functional != nil {
                        out.payload = Tensor.stack(
                            mode == .any ? [task.payload].compactMap { $0 } : state.outputs.compactMap { $0 })
                    }
                    let bytes = task.bytes.multiplying(UInt64(mode == .any ? 1 : state.expected))
                    follow(next, from: out, outputBytes: bytes, into: &actions)
                }
            } else if complete {
                // An any-join whose every item failed.
                state.fired = true
                actions.append(Self.fail(out))
            }
        }
        if complete { joins[key] = nil } else { joins[key] = state }
    }
}
