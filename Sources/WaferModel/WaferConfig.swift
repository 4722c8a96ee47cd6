/// The PE array of one TBU: an `rows × columns` systolic array with local SRAM.
public struct PEArrayConfig: Codable, Equatable, Sendable {
    public var rows: Int
    public var columns: Int
    public var dataflow: Dataflow
    /// Local SRAM of the TBU in bytes, split equally into ifmap, filter and ofmap buffers.
    public var sramBytes: Int
    /// Bytes per cycle between the cluster buffer and the TBU's SRAM.
    public var bandwidthBytesPerCycle: Int
    /// Bytes per operand element (1 for int8).
    public var wordBytes: Int

    public init(
        rows: Int, columns: Int, dataflow: Dataflow, sramBytes: Int, bandwidthBytesPerCycle: Int = 64,
        wordBytes: Int = 1
    ) {
        self.rows = rows
        self.columns = columns
        self.dataflow = dataflow
        self.sramBytes = sramBytes
        self.bandwidthBytesPerCycle = bandwidthBytesPerCycle
        self.wordBytes = wordBytes
    }
}

/// One kind of link in the mesh: cycles per hop and bytes per cycle.
public struct LinkConfig: Codable, Equatable, Sendable {
    public var hopLatency: Cycle
    public var bandwidthBytesPerCycle: Int

    public init(hopLatency: Cycle, bandwidthBytesPerCycle: Int) {
        self.hopLatency = hopLatency
        self.bandwidthBytesPerCycle = bandwidthBytesPerCycle
    }
}

/// Which requests the wafer accepts when it is overloaded.
public struct AdmissionConfig: Codable, Equatable, Sendable {
    public enum Policy: String, Codable, CaseIterable, Sendable {
        /// Every cluster queue rejects blocks beyond `queue_capacity` (a central queue: beyond
        /// clusters × `queue_capacity`), whether they are new requests or work inside one.
        case queues
        /// One admission control in front of every scheduler: the coordinator accepts a new request
        /// only while fewer than `maxInFlight` requests are unfinished (as far as it knows:
        /// outcomes reach it over the control plane); queues never reject.
        case inFlight = "in_flight"
    }

    public var policy: Policy
    /// Unfinished requests admitted at most (`in_flight` only); nil: clusters × `queue_capacity`,
    /// the blocks all cluster queues hold together (see ``WaferConfig/admissionLimit``).
    public var maxInFlight: Int?

    public init(policy: Policy, maxInFlight: Int? = nil) {
        self.policy = policy
        self.maxInFlight = maxInFlight
    }
}

/// How the mesh carries task flows between clusters.
public struct InterconnectConfig: Codable, Equatable, Sendable {
    public enum Model: String, Codable, CaseIterable, Sendable {
        /// Links are pure delays: hops × hop latency + bytes / narrowest bandwidth, whatever else
        /// is on them.
        case delay
        /// Every directed link and each cluster's injection and ejection port carries one transfer
        /// at a time, first come first served, with virtual cut-through between routers
        /// (docs/configuration.md, "Link contention"). Alone on its route, a transfer takes exactly
        /// the delay model's time.
        case contention
    }

    public var model: Model
    /// Bytes per cycle of each cluster's injection (cluster → router) and ejection (router →
    /// cluster) port.
    public var portBandwidthBytesPerCycle: Int

    public init(model: Model, portBandwidthBytesPerCycle: Int) {
        self.model = model
        self.portBandwidthBytesPerCycle = portBandwidthBytesPerCycle
    }
}

/// What every cluster of the wafer contains.
public struct ClusterConfig: Codable, Equatable, Sendable {
    /// Number of Task Block Units (one PE array each).
    public var tbus: Int
    /// Number of Control Block Units.
    public var cbus: Int
    /// Shared cluster buffer (SRAM) in bytes.
    public var bufferBytes: Int
    /// Bytes per cycle into the cluster buffer from outside the cluster (operands that do not fit).
    public var bufferRefillBytesPerCycle: Int

    /// The cluster buffer as the layer timing model sees it.
    public var buffer: LayerTiming.ClusterBuffer {
        LayerTiming.ClusterBuffer(bytes: bufferBytes, refillBytesPerCycle: bufferRefillBytesPerCycle)
    }
    /// Bound on queued task blocks; arrivals beyond it are rejected and counted, never lost.
    public var queueCapacity: Int
    public var peArray: PEArrayConfig
    /// Cycles to set a TBU up for a different task-block type.
    public var reconfigurationCycles: Cycle
    /// Cycles a CBU needs to evaluate one control block.
    public var controlBlockCycles: Cycle
    /// Period of the load signals a cluster sends to the coordinator.
    public var loadSignalPeriod: Cycle
    /// Whether a TBU loads the first fill of a queued block while it finishes the previous one
    /// (absent in older `wafer.json` files: off).
    var storedOverlapFill: Bool?

    /// Fill overlap across blocks: a block that starts on a TBU the moment its previous block
    /// ends there, without reconfiguration, after waiting in the queue, had its first layer's fill
    /// loaded during that wait (docs/configuration.md, "Fill overlap").
    public var overlapsFill: Bool {
        get { storedOverlapFill ?? false }
        set { storedOverlapFill = newValue ? true : nil }
    }

    /// Credit-based flow control of task flows: the input-buffer slots each cluster keeps for every
    /// cluster of the wafer, itself included (nil: unbounded buffers, no back-pressure; see
    /// docs/configuration.md, "Back-pressure").
    public var flowCredits: Int?

    private enum CodingKeys: String, CodingKey {
        case tbus, cbus, bufferBytes, bufferRefillBytesPerCycle, queueCapacity, peArray, reconfigurationCycles
        case controlBlockCycles, loadSignalPeriod
        case storedOverlapFill = "overlapFill"
        case flowCredits
    }
}

/// How processes synchronise virtual time.
public enum SyncMode: String, Codable, CaseIterable, Sendable {
    /// Exact timing: windows bounded by the lookahead, or speculative windows that run again
    /// where a message arrives inside them (see `speculation`).
    case exact
    /// Fixed windows of at least `window` cycles: messages landing inside a window are delivered at
    /// its end (bounded, reported timing error; faster).
    case quantum
}

/// Synchronisation settings.
public struct SyncConfig: Codable, Equatable, Sendable {
    public var mode: SyncMode
    /// Window length for `quantum` mode.
    public var window: Cycle
    /// Exact mode across processes: run speculative windows (same results, fewer rounds). Off:
    /// conservative windows only.
    public var speculation: Bool

    public init(mode: SyncMode, window: Cycle, speculation: Bool = true) {
        self.mode = mode
        self.window = window
        self.speculation = speculation
    }
}

/// The emulated wafer: a mesh of clusters grouped in dies, their contents, links, clock and seed.
public struct WaferConfig: Codable, Equatable, Sendable {
    public var name: String
    /// Clock of the whole wafer in MHz (virtual time is counted in its cycles).
    public var clockMHz: Int
    /// Seed from which every random stream of a run is derived.
    public var seed: UInt64
    /// Mesh size in clusters.
    public var rows: Int
    public var columns: Int
    /// Die size in clusters (a die is a reticle-sized tile of the mesh).
    public var dieRows: Int
    public var dieColumns: Int
    /// Links between neighbouring clusters on the same die and across a die boundary.
    public var intraDie: LinkConfig
    public var interDie: LinkConfig
    /// Latency of the decoupled control plane between the coordinator and any cluster.
    public var controlLatency: Cycle
    public var cluster: ClusterConfig
    public var sync: SyncConfig
    /// Defective clusters, TBUs and links (older `wafer.json` files have none).
    var storedDefects: WaferDefects?
    /// The link model when it is not the delay model (older `wafer.json` files have none).
    var storedInterconnect: InterconnectConfig?
    /// The admission policy when it is not `queues` (older `wafer.json` files have none).
    var storedAdmission: AdmissionConfig?

    /// Which requests the wafer accepts under overload (default: the queues reject).
    public var admission: AdmissionConfig {
        get { storedAdmission ?? AdmissionConfig(policy: .queues) }
        set { storedAdmission = newValue.policy == .queues ? nil : newValue }
    }

    /// Whether queues may reject blocks (false when admission control is in front of the wafer).
    public var queuesReject: Bool { admission.policy == .queues }

    /// Unfinished requests the `in_flight` admission control allows.
    public var admissionLimit: Int { admission.maxInFlight ?? cluster.queueCapacity * clusterCount }

    /// Defective clusters, TBUs and links.
    public var defects: WaferDefects {
        get { storedDefects ?? .none }
        set { storedDefects = newValue.isEmpty ? nil : newValue }
    }

    private enum CodingKeys: String, CodingKey {
        case name, clockMHz, seed, rows, columns, dieRows, dieColumns, intraDie, interDie, controlLatency, cluster, sync
        case storedDefects = "defects"
        case storedInterconnect = "interconnect"
        case storedAdmission = "admission"
    }

    /// How the mesh carries transfers: pure delays (the default) or contended links and ports.
    public var interconnect: InterconnectConfig {
        get {
            storedInterconnect
                ?? InterconnectConfig(
                    model: .delay,
                    portBandwidthBytesPerCycle: max(intraDie.bandwidthBytesPerCycle, interDie.bandwidthBytesPerCycle))
        }
        set { storedInterconnect = newValue.model == .delay ? nil : newValue }
    }

    /// Number of clusters (= cluster processes).
    public var clusterCount: Int { rows * columns }

    /// The mesh geometry and link model of this wafer.
    public var mesh: Mesh { Mesh(config: self) }

    /// The smallest latency of any message between two processes: the conservative lookahead.
    public var lookahead: Cycle {
        var smallest = controlLatency
        // One hop is the shortest route between two clusters; which link kinds exist depends on tiling.
        if dieRows * dieColumns > 1 { smallest = min(smallest, intraDie.hopLatency) }
        if dieRows < rows || dieColumns < columns { smallest = min(smallest, interDie.hopLatency) }
        return max(1, smallest)
    }

    /// Cycles → microseconds of virtual time.
    public func microseconds(_ cycles: Cycle) -> Double { Double(cycles) / Double(clockMHz) }
}
