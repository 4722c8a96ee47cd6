import Scheduling
import WaferModel

/// Decides where the next block of a request goes when a block finishes on this cluster: a join
/// to the cluster that holds its fan-out's state, a control block stays here, a task block to the
/// cluster the placement policy picks — or, with a central queue, everything to the coordinator.
/// It numbers the task flows that leave the cluster (for the trace's flow arrows).
struct FlowRouter {
    /// Where a block goes.
    enum Route: Equatable {
        /// It stays here and joins this cluster's queue (or its CBUs).
        case local
        /// It travels to another cluster.
        case peer(Int)
        /// It waits in the coordinator's central queue; `pinned` is the cluster it must run on, or -1.
        case coordinator(pinned: Int32)
    }

    let cluster: Int
    let library: WorkflowLibrary
    let routing: ReadyBlockRouting
    private var flowCounter: UInt64 = 0

    init(cluster: Int, library: WorkflowLibrary, routing: ReadyBlockRouting) {
        self.cluster = cluster
        self.library = library
        self.routing = routing
    }

    /// True when ready blocks wait in the coordinator instead of being placed here.
    var usesCentralQueue: Bool {
        if case .centralQueue = routing { return true }
        return false
    }

    /// A new flow id, unique on the wafer (the cluster id in the high bits).
    mutating func nextFlow() -> UInt64 {
        flowCounter += 1
        return (UInt64(cluster + 1) << 40) | flowCounter
    }

    /// The route of `next` (whose `taskType` is the block to run). `place` is asked only when a
    /// task block needs a placement decision.
    func route(_ next: TaskMessage, place: (any PlacementPolicy) -> Int) -> Route {
        let target = library[Int(next.taskType.workflow)].blocks[Int(next.taskType.block)]
        var home: Int?
        // Items meet where their fan-out's join state lives.
        if case .control(.join) = target.kind, let frame = next.fanouts.last { home = Int(frame.home) }
        switch routing {
        case .centralQueue:
            // Everything waits in the coordinator's one queue; a join must still run at home.
            return .coordinator(pinned: Int32(home ?? -1))
        case .placement(let policy):
            // Control blocks stay here: on the CBUs (decoupled control plane) or queued with task blocks.
            let destination = home ?? (target.isTask ? place(policy) : cluster)
            return destination == cluster ? .local : .peer(destination)
        }
    }
}
