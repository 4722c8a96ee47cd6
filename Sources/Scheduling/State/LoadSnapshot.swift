import WaferModel

/// Queued work of one task-block type in one cluster.
public struct TaskTypeLoad: Codable, Equatable, Sendable {
    public var taskType: TaskType
    public var queuedTasks: Int
    /// Predicted cycles of the queued blocks of this type.
    public var pendingCycles: Cycle

    public init(taskType: TaskType, queuedTasks: Int, pendingCycles: Cycle) {
        self.taskType = taskType
        self.queuedTasks = queuedTasks
        self.pendingCycles = pendingCycles
    }
}

/// Runs of one task-block type finished in a cluster since its previous load signal: the
/// observations the coordinator classifies types and predicts demand from.
public struct TypeRuns: Codable, Equatable, Sendable {
    public var taskType: TaskType
    public var runs: UInt32
    /// Σ cycles of the runs (unsplit, as on one TBU) and Σ cycles².
    public var cycles: Double
    public var squares: Double

    public init(taskType: TaskType, runs: UInt32, cycles: Double, squares: Double) {
        self.taskType = taskType
        self.runs = runs
        self.cycles = cycles
        self.squares = squares
    }
}

/// A task block of one request that started running: what a clairvoyant planner subtracts from
/// the request's known future work.
public struct RequestBlock: Codable, Equatable, Sendable {
    public var request: UInt64
    public var taskType: TaskType

    public init(request: UInt64, taskType: TaskType) {
        self.request = request
        self.taskType = taskType
    }
}

/// One cluster's load as schedulers see it: what its load signal reported, plus what the observer
/// has placed there since.
public struct ClusterLoad: Codable, Equatable, Sendable {
    public var cluster: Int
    public var tbus: Int
    public var busyTBUs: Int
    public var queuedTasks: Int
    /// Predicted cycles of all queued work plus the remaining cycles of running work.
    public var pendingCycles: Cycle
    /// The type each TBU is configured for (nil: never configured), by TBU index.
    public var configurations: [TaskType?]
    /// The per-type lists below, out of line and nil when all are empty, as in every published
    /// view: each cluster's copy of the view has an entry per cluster, copied at every view update,
    /// and on a 16×16 wafer those copies were 44% of a one-process run while each retained and
    /// released four empty arrays.
    fileprivate var detail: Detail?

    /// Immutable, so sharing it keeps value semantics: a change makes a new box.
    fileprivate final class Detail: Sendable {
        let byType: [TaskTypeLoad]
        let finished: [TypeRuns]
        let running: [TaskType]
        let started: [RequestBlock]

        init(byType: [TaskTypeLoad], finished: [TypeRuns], running: [TaskType], started: [RequestBlock]) {
            self.byType = byType
            self.finished = finished
            self.running = running
            self.started = started
        }

        /// The box for these lists, nil when all are empty.
        static func box(
            byType: [TaskTypeLoad], finished: [TypeRuns], running: [TaskType], started: [RequestBlock]
        ) -> Detail? {
            byType.isEmpty && finished.isEmpty && running.isEmpty && started.isEmpty
                ? nil : Detail(byType: byType, finished: finished, running: running, started: started)
        }
    }

    /// Queued work per task-block type, in type order (as of the cluster's last load signal).
    public var byType: [TaskTypeLoad] {
        get { detail?.byType ?? [] }
        set { detail = .box(byType: newValue, finished: finished, running: running, started: started) }
    }
    /// Task blocks finished since the previous signal, by type (empty in published views).
    public var finished: [TypeRuns] {
        get { detail?.finished ?? [] }
        set { detail = .box(byType: byType, finished: newValue, running: running, started: started) }
    }
    /// Running task blocks by type (for the planner's in-flight positions).
    public var running: [TaskType] {
        get { detail?.running ?? [] }
        set { detail = .box(byType: byType, finished: finished, running: newValue, started: started) }
    }
    /// Task blocks started since the previous signal, by request, in start order (only for a
    /// planner with foresight; empty otherwise and in published views).
    public var started: [RequestBlock] {
        get { detail?.started ?? [] }
        set { detail = .box(byType: byType, finished: finished, running: running, started: newValue) }
    }

    /// Calls `body` with every type queued here and its count (``byType``), then once for every
    /// running block (``running``), without copying the lists: the proactive planner counts the
    /// in-flight blocks of every cluster at every step.
    public func forEachInFlight(_ body: (TaskType, Int) -> Void) {
        guard let detail else { return }
        for entry in detail.byType { body(entry.taskType, entry.queuedTasks) }
        for type in detail.running { body(type, 1) }
    }

    public init(
        cluster: Int, tbus: Int, busyTBUs: Int = 0, queuedTasks: Int = 0, pendingCycles: Cycle = 0,
        byType: [TaskTypeLoad] = [], configurations: [TaskType?] = [], finished: [TypeRuns] = [],
        running: [TaskType] = [], started: [RequestBlock] = []
    ) {
        self.cluster = cluster
        self.tbus = tbus
        self.busyTBUs = busyTBUs
        self.queuedTasks = queuedTasks
        self.pendingCycles = pendingCycles
        self.configurations = configurations
        detail = .box(byType: byType, finished: finished, running: running, started: started)
    }

    /// True when the cluster has nothing queued or running.
    public var isIdle: Bool { busyTBUs == 0 && queuedTasks == 0 && pendingCycles == 0 }

    public static func == (a: ClusterLoad, b: ClusterLoad) -> Bool {
        a.cluster == b.cluster && a.tbus == b.tbus && a.busyTBUs == b.busyTBUs && a.queuedTasks == b.queuedTasks
            && a.pendingCycles == b.pendingCycles && a.configurations == b.configurations
            && (a.detail === b.detail
                || (a.byType == b.byType && a.finished == b.finished && a.running == b.running
                    && a.started == b.started))
    }

    private enum CodingKeys: String, CodingKey {
        case cluster, tbus, busyTBUs, queuedTasks, pendingCycles, byType, configurations, finished, running, started
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            cluster: try c.decode(Int.self, forKey: .cluster), tbus: try c.decode(Int.self, forKey: .tbus),
            busyTBUs: try c.decode(Int.self, forKey: .busyTBUs),
            queuedTasks: try c.decode(Int.self, forKey: .queuedTasks),
            pendingCycles: try c.decode(Cycle.self, forKey: .pendingCycles),
            byType: try c.decode([TaskTypeLoad].self, forKey: .byType),
            configurations: try c.decode([TaskType?].self, forKey: .configurations),
            finished: try c.decode([TypeRuns].self, forKey: .finished),
            running: try c.decode([TaskType].self, forKey: .running),
            started: try c.decode([RequestBlock].self, forKey: .started))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cluster, forKey: .cluster)
        try c.encode(tbus, forKey: .tbus)
        try c.encode(busyTBUs, forKey: .busyTBUs)
        try c.encode(queuedTasks, forKey: .queuedTasks)
        try c.encode(pendingCycles, forKey: .pendingCycles)
        try c.encode(byType, forKey: .byType)
        try c.encode(configurations, forKey: .configurations)
        try c.encode(finished, forKey: .finished)
        try c.encode(running, forKey: .running)
        try c.encode(started, forKey: .started)
    }
}

/// The wafer-wide load picture a cluster-level placement decision is made over: the coordinator's
/// from the clusters' load signals and its own placements; each cluster's a copy of what the
/// coordinator publishes, updated with its own placements since.
public struct WaferLoadView: Equatable, Sendable {
    /// Virtual time the view describes.
    public var time: Cycle
    /// One entry per cluster, indexed by cluster id.
    public var clusters: [ClusterLoad]

    public init(time: Cycle, clusters: [ClusterLoad]) {
        self.time = time
        self.clusters = clusters
    }

    /// An empty wafer of `mesh`'s clusters, each with its working TBUs.
    public static func idle(mesh: Mesh) -> WaferLoadView {
        WaferLoadView(
            time: 0, clusters: (0..<mesh.count).map { ClusterLoad(cluster: $0, tbus: mesh.workingTBUs(of: $0)) })
    }

    /// An empty wafer of `count` clusters with `tbus` TBUs each.
    public static func idle(clusters count: Int, tbus: Int) -> WaferLoadView {
        WaferLoadView(time: 0, clusters: (0..<count).map { ClusterLoad(cluster: $0, tbus: tbus) })
    }

    /// Records that `cycles` of work were just sent to `cluster`, so the next decision made from
    /// the same (possibly stale) view does not pile onto it.
    public mutating func notePlaced(cycles: Cycle, on cluster: Int) {
        clusters[cluster].queuedTasks += 1
        clusters[cluster].pendingCycles += cycles
    }

    /// Undoes ``notePlaced(cycles:on:)`` of the same `cycles` on `cluster`.
    public mutating func takeBack(cycles: Cycle, on cluster: Int) {
        clusters[cluster].queuedTasks -= 1
        clusters[cluster].pendingCycles -= cycles
    }

    /// Takes in what the coordinator published.
    public mutating func apply(_ update: LoadViewUpdate) {
        time = update.time
        for entry in update.clusters where clusters.indices.contains(entry.cluster) { clusters[entry.cluster] = entry }
    }
}

/// What the coordinator publishes of its view: the entries of the clusters whose load changed
/// since its last publication, with only what placement and balancing read (pending cycles,
/// queued blocks, busy TBUs, configurations — not the per-type detail and the runs that only
/// the coordinator's planner uses).
public struct LoadViewUpdate: Equatable, Sendable {
    public var time: Cycle
    public var clusters: [ClusterLoad]
    /// How many of the coordinator's publications this update stands for: 1, or more when a host
    /// merged the updates it held for an idle cluster into one (``merged(_:)``).
    public var publications: UInt32

    public init(time: Cycle, clusters: [ClusterLoad], publications: UInt32 = 1) {
        self.time = time
        self.clusters = clusters
        self.publications = publications
    }

    /// `updates`, in the order they were published, as one: applying it to a view
    /// (``WaferLoadView/apply(_:)``) leaves the view exactly as applying each in turn would —
    /// the last update's time, and every cluster's latest entry (in cluster order).
    public static func merged(_ updates: [LoadViewUpdate]) -> LoadViewUpdate {
        precondition(!updates.isEmpty, "nothing to merge")
        if updates.count == 1 { return updates[0] }
        // Entries by cluster id, later ones overwriting earlier ones (ids are small: a wafer's).
        var highest = -1
        var publications: UInt32 = 0
        for update in updates {
            for entry in update.clusters { highest = max(highest, entry.cluster) }
            publications &+= update.publications
        }
        var latest = [ClusterLoad?](repeating: nil, count: highest + 1)
        for update in updates {
            for entry in update.clusters where entry.cluster >= 0 { latest[entry.cluster] = entry }
        }
        return LoadViewUpdate(
            time: updates[updates.count - 1].time, clusters: latest.compactMap { $0 }, publications: publications)
    }

    /// `load` as published: without per-type queues, finished runs and running blocks.
    public static func published(_ load: ClusterLoad) -> ClusterLoad {
        var slim = load
        slim.detail = .box(byType: [], finished: [], running: [], started: load.started)
        return slim
    }
}
