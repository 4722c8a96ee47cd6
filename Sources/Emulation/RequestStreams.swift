import WaferModel

/// The random streams and phase of requests, shared by every part that decides about them.
struct RequestStreams: Sendable {
    let seed: UInt64
    let library: WorkflowLibrary
    /// Each workflow's key in the streams: its name's, not its index, so a library's other
    /// workflows (what else a directory holds) never change a workflow's draws.
    private let workflowKeys: [UInt64]

    init(seed: UInt64, library: WorkflowLibrary) {
        self.seed = seed
        self.library = library
        workflowKeys = library.workflows.map { SplitMix64.key(ofName: $0.name) }
    }

    /// The request's own stream for one decision.
    func stream(for task: TaskMessage, _ purpose: StreamPurpose) -> SplitMix64 {
        var keys: [UInt64] = [
            seed, task.request, workflowKeys[Int(task.taskType.workflow)], UInt64(task.taskType.block),
            purpose.rawValue,
        ]
        for frame in task.loops { keys.append(UInt64(frame.block) << 32 | UInt64(frame.iteration)) }
        for frame in task.fanouts { keys.append(UInt64(frame.join) << 32 | UInt64(frame.item)) }
        return SplitMix64(keyList: keys)
    }

    /// The value of request parameter `index` of `task`'s workflow: the one the request brought,
    /// or else a draw made once per request (the same in every block that uses it).
    func requestParameter(_ index: Int, of task: TaskMessage) -> Int {
        if index < task.parameters.count, task.parameters[index] >= 0 { return Int(task.parameters[index]) }
        var rng = SplitMix64(keys: seed, task.request, StreamPurpose.requestParameter.rawValue, UInt64(index))
        return library[Int(task.taskType.workflow)].requestParameters[index].values.sample(&rng)
    }

    /// What `use` gives for `task`: its request parameter, plus the iteration of the named loop
    /// when the task is inside it (0 outside). Nil when the parameter is unknown (never, once the
    /// workflow validated).
    func value(of use: RequestUse, for task: TaskMessage) -> Int? {
        let graph = library[Int(task.taskType.workflow)]
        guard let index = graph.requestParameterIndex(use.parameter) else { return nil }
        var value = requestParameter(index, of: task)
        if let loop = use.plusIterationOf, let block = graph.index(of: loop),
            let frame = task.loops.last(where: { Int($0.block) == block })
        {
            value += Int(frame.iteration)
        }
        return value
    }

    /// The phase of the request: the one of the virtual time it arrived at the wafer.
    func phase(of task: TaskMessage) -> Int {
        library[Int(task.taskType.workflow)].phases.index(at: task.injected)
    }
}
