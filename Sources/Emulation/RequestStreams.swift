import WaferModel

/// The purposes a request's random streams are drawn for. Each decision about a request draws from
/// its own stream, keyed by the run seed, the request, the block, the purpose, and the request's
/// loop iterations and fan-out items — so the draw is the same wherever and whenever it is made.
enum StreamPurpose: UInt64 {
    /// Per-request shape parameters of a task block's operations ("SHAP").
    case shape = 0x5348_4150
    /// The item count of a for-each fan-out ("FCNT").
    case fanoutCount = 0x4643_4E54
    /// A branch or early-exit decision ("BRNC").
    case branch = 0x4252_4E43
    /// The trip count of a loop ("TRIP").
    case loopTrips = 0x5452_4950
    /// Whether a probabilistic loop continues ("CONT").
    case loopContinue = 0x434F_4E54
    /// The key of a load-oblivious replica choice ("PLAC").
    case placement = 0x504C_4143
    /// The key of an entry block's placement, drawn by the coordinator ("ENTR").
    case entryPlacement = 0x454E_5452
}

/// The random streams and phase of requests, shared by every part that decides about them.
struct RequestStreams: Sendable {
    let seed: UInt64
    let library: WorkflowLibrary

    /// The request's own stream for one decision.
    func stream(for task: TaskMessage, _ purpose: StreamPurpose) -> SplitMix64 {
        var keys: [UInt64] = [seed, task.request, UInt64(task.taskType.workflow), UInt64(task.taskType.block), purpose.rawValue]
        for frame in task.loops { keys.append(UInt64(frame.block) << 32 | UInt64(frame.iteration)) }
        for frame in task.fanouts { keys.append(UInt64(frame.join) << 32 | UInt64(frame.item)) }
        return SplitMix64(keyList: keys)
    }

    /// The phase of the request: the one of the virtual time it arrived at the wafer.
    func phase(of task: TaskMessage) -> Int {
        library[Int(task.taskType.workflow)].phases.index(at: task.injected)
    }
}
