import WaferModel

/// The random streams and phase of requests, shared by every part that decides about them.
struct RequestStreams: Sendable {
    let seed: UInt64
    let library: WorkflowLibrary

    /// The request's own stream for one decision.
    func stream(for task: TaskMessage, _ purpose: StreamPurpose) -> SplitMix64 {
        var keys: [UInt64] = [
            seed, task.request, UInt64(task.taskType.workflow), UInt64(task.taskType.block), purpose.rawValue,
        ]
        for frame in task.loops { keys.append(UInt64(frame.block) << 32 | UInt64(frame.iteration)) }
        for frame in task.fanouts { keys.append(UInt64(frame.join) << 32 | UInt64(frame.item)) }
        return SplitMix64(keyList: keys)
    }

    /// The phase of the request: the one of the virtual time it arrived at the wafer.
    func phase(of task: TaskMessage) -> Int {
        library[Int(task.taskType.workflow)].phases.index(at: task.injected)
    }
}
