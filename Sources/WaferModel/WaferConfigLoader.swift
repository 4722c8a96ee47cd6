/// Reads and validates wafer configurations (`Configs/wafers/*.yaml`).
///
/// Every field has a documented default (see `docs/configuration.md`); unknown fields, wrong types
/// and out-of-range values are errors naming file, line and field.
public enum WaferConfigLoader {
    /// Loads a wafer configuration file.
    public static func load(path: String) throws -> WaferConfig {
        try parse(ConfigNode.load(path: path))
    }

    /// Parses YAML text (`file` labels errors).
    public static func parse(_ text: String, file: String) throws -> WaferConfig {
        try parse(ConfigNode.parse(text, file: file))
    }

    static func parse(_ root: ConfigNode) throws -> WaferConfig {
        let top = try root.mapping(allowed: [
            "name", "clock_mhz", "seed", "mesh", "links", "cluster", "sync", "defects", "admission",
        ])
        let name = try top.optional("name")?.string() ?? "wafer"
        let clock = try top.optional("clock_mhz")?.int(in: 1...100_000) ?? 1000
        let seed = try top.optional("seed").map { UInt64(try $0.int(in: 0...Int.max)) } ?? 1

        let meshNode = try top.required("mesh")
        let mesh = try meshNode.mapping(allowed: ["rows", "columns", "die_rows", "die_columns"])
        let rows = try mesh.required("rows").int(in: Limits.meshSide)
        let columns = try mesh.required("columns").int(in: Limits.meshSide)
        let dieRowsNode = mesh.optional("die_rows")
        let dieColumnsNode = mesh.optional("die_columns")
        let dieRows = try dieRowsNode?.int(in: 1...rows) ?? rows
        let dieColumns = try dieColumnsNode?.int(in: 1...columns) ?? columns
        if rows % dieRows != 0, let node = dieRowsNode {
            throw node.error("must divide mesh.rows (\(rows)) so that dies tile the wafer")
        }
        if columns % dieColumns != 0, let node = dieColumnsNode {
            throw node.error("must divide mesh.columns (\(columns)) so that dies tile the wafer")
        }

        var intra = LinkConfig(hopLatency: 20, bandwidthBytesPerCycle: 64)
        var inter = LinkConfig(hopLatency: 200, bandwidthBytesPerCycle: 16)
        var controlLatency: Cycle = 100
        var linkModel = InterconnectConfig.Model.delay
        var portBandwidth: Int?
        if let linksNode = top.optional("links") {
            let links = try linksNode.mapping(allowed: [
                "intra_die", "inter_die", "control_latency_cycles", "model", "port_bandwidth_bytes_per_cycle",
            ])
            linkModel = try links.optional("model")?.choice(InterconnectConfig.Model.self) ?? .delay
            if let node = links.optional("port_bandwidth_bytes_per_cycle") {
                guard linkModel == .contention else {
                    throw node.error("applies to `model: contention` only (the delay model has no ports)")
                }
                portBandwidth = try node.int(in: 1...1_000_000)
            }
            if let node = links.optional("intra_die") { intra = try parseLink(node, default: intra) }
            if let node = links.optional("inter_die") { inter = try parseLink(node, default: inter) }
            if let node = links.optional("control_latency_cycles") {
                controlLatency = try node.cycles(atMost: Limits.largestDuration)
                if controlLatency == 0 { throw node.error("must be at least 1 cycle (it bounds the lookahead)") }
            }
        }

        var cluster = ClusterConfig(
            tbus: 4, cbus: 1, bufferBytes: 8 << 20, bufferRefillBytesPerCycle: 32, queueCapacity: 256,
            peArray: PEArrayConfig(rows: 32, columns: 32, dataflow: .os, sramBytes: 512 << 10),
            reconfigurationCycles: 2000, controlBlockCycles: 50, loadSignalPeriod: 10_000)
        if let clusterNode = top.optional("cluster") {
            let c = try clusterNode.mapping(allowed: [
                "tbus", "cbus", "buffer_bytes", "buffer_refill_bytes_per_cycle", "queue_capacity", "pe_array",
                "reconfiguration_cycles",
                "control_block_cycles", "load_signal_period_cycles", "overlap_fill", "flow_credits",
            ])
            cluster.overlapsFill = try c.optional("overlap_fill")?.bool() ?? false
            cluster.flowCredits = try c.optional("flow_credits")?.int(in: 1...65_536)
            cluster.tbus = try c.optional("tbus")?.int(in: 1...1024) ?? cluster.tbus
            cluster.cbus = try c.optional("cbus")?.int(in: 1...64) ?? cluster.cbus
            cluster.bufferBytes = try c.optional("buffer_bytes")?.int(in: 1...Int(Int32.max)) ?? cluster.bufferBytes
            cluster.bufferRefillBytesPerCycle =
                try c.optional("buffer_refill_bytes_per_cycle")?.int(in: 1...1_000_000)
                ?? cluster.bufferRefillBytesPerCycle
            cluster.queueCapacity = try c.optional("queue_capacity")?.int(in: 1...1_000_000) ?? cluster.queueCapacity
            cluster.reconfigurationCycles =
                try c.optional("reconfiguration_cycles")?.cycles(atMost: Limits.largestDuration)
                ?? cluster.reconfigurationCycles
            cluster.controlBlockCycles =
                try c.optional("control_block_cycles")?.cycles(atMost: Limits.largestDuration)
                ?? cluster.controlBlockCycles
            if let node = c.optional("load_signal_period_cycles") {
                cluster.loadSignalPeriod = try node.cycles(atMost: Limits.largestDuration)
                if cluster.loadSignalPeriod == 0 { throw node.error("must be at least 1 cycle") }
            }
            if let arrayNode = c.optional("pe_array") {
                let a = try arrayNode.mapping(allowed: [
                    "rows", "columns", "dataflow", "sram_bytes", "bandwidth_bytes_per_cycle", "word_bytes",
                ])
                cluster.peArray.rows = try a.optional("rows")?.int(in: Limits.arraySide) ?? cluster.peArray.rows
                cluster.peArray.columns =
                    try a.optional("columns")?.int(in: Limits.arraySide) ?? cluster.peArray.columns
                cluster.peArray.dataflow = try a.optional("dataflow")?.choice(Dataflow.self) ?? cluster.peArray.dataflow
                cluster.peArray.sramBytes =
                    try a.optional("sram_bytes")?.int(in: Limits.arraySRAMBytes) ?? cluster.peArray.sramBytes
                cluster.peArray.bandwidthBytesPerCycle =
                    try a.optional("bandwidth_bytes_per_cycle")?.int(in: Limits.bandwidthBytesPerCycle)
                    ?? cluster.peArray.bandwidthBytesPerCycle
                cluster.peArray.wordBytes = try a.optional("word_bytes")?.int(in: 1...16) ?? cluster.peArray.wordBytes
            }
        }

        var sync = SyncConfig(mode: .exact, window: 50_000)
        if let syncNode = top.optional("sync") {
            let s = try syncNode.mapping(allowed: ["mode", "window_cycles", "speculation"])
            sync.mode = try s.optional("mode")?.choice(SyncMode.self) ?? .exact
            sync.speculation = try s.optional("speculation")?.bool() ?? true
            if let node = s.optional("window_cycles") {
                sync.window = try node.cycles(atMost: Limits.largestDuration)
                if sync.window == 0 { throw node.error("must be at least 1 cycle") }
            }
        }

        var config = WaferConfig(
            name: name, clockMHz: clock, seed: seed, rows: rows, columns: columns,
            dieRows: dieRows, dieColumns: dieColumns, intraDie: intra, interDie: inter,
            controlLatency: controlLatency, cluster: cluster, sync: sync)
        config.interconnect = InterconnectConfig(
            model: linkModel,
            portBandwidthBytesPerCycle: portBandwidth ?? config.interconnect.portBandwidthBytesPerCycle)
        if let node = top.optional("defects") {
            config.defects = try parseDefects(node, config: config)
            try checkDefects(config, node: node)
        }
        if let node = top.optional("admission") {
            let a = try node.mapping(allowed: ["policy", "max_in_flight"])
            var admission = config.admission
            admission.policy = try a.optional("policy")?.choice(AdmissionConfig.Policy.self) ?? .queues
            if let limit = a.optional("max_in_flight") {
                guard admission.policy == .inFlight else {
                    throw limit.error(
                        "applies to `policy: in_flight` only (the queues' bound is cluster.queue_capacity)")
                }
                admission.maxInFlight = try limit.int(in: 1...Limits.outstandingRequests)
            }
            config.admission = admission
        }
        return config
    }

    /// `defects: {clusters: [ID…], tbus: [{cluster: ID, tbu: I}…], links: [[ID, ID]…],
    /// yield: {clusters: P, tbus: P, links: P, seed: S}}` (docs/configuration.md).
    private static func parseDefects(_ node: ConfigNode, config: WaferConfig) throws -> WaferDefects {
        let d = try node.mapping(allowed: ["clusters", "tbus", "links", "yield"])
        let count = config.clusterCount
        let clusters = try d.optional("clusters")?.sequence().map { try $0.int(in: 0...(count - 1)) } ?? []
        let tbus =
            try d.optional("tbus")?.sequence().map { item -> WaferDefects.TBUAddress in
                let t = try item.mapping(allowed: ["cluster", "tbu"])
                return WaferDefects.TBUAddress(
                    cluster: try t.required("cluster").int(in: 0...(count - 1)),
                    tbu: try t.required("tbu").int(in: 0...(config.cluster.tbus - 1)))
            } ?? []
        let mesh = Mesh(config: config)
        let links =
            try d.optional("links")?.sequence().map { item -> WaferDefects.Link in
                let ends = try item.sequence()
                guard ends.count == 2 else {
                    throw item.error("a link is a pair of neighbouring clusters, e.g. [1, 2]")
                }
                let a = try ends[0].int(in: 0...(count - 1))
                let b = try ends[1].int(in: 0...(count - 1))
                guard mesh.adjacent(to: a).contains(b) else {
                    throw item.error("clusters \(a) and \(b) are not neighbours on the mesh, so no link joins them")
                }
                return WaferDefects.Link(a, b)
            } ?? []
        var defects = WaferDefects(clusters: clusters, tbus: tbus, links: links)
        if let yieldNode = d.optional("yield") {
            let y = try yieldNode.mapping(allowed: ["clusters", "tbus", "links", "seed"])
            func rate(_ key: String) throws -> Double {
                guard let n = y.optional(key) else { return 0 }
                let value = try n.double()
                guard (0...1).contains(value) else { throw n.error("must be a probability between 0 and 1") }
                return value
            }
            let seed = try y.optional("seed").map { UInt64(try $0.int(in: 0...Int.max)) } ?? config.seed
            defects = defects.merged(
                with: WaferDefects.drawn(
                    mesh: (config.rows, config.columns), tbusPerCluster: config.cluster.tbus,
                    clusterRate: try rate("clusters"), tbuRate: try rate("tbus"), linkRate: try rate("links"),
                    seed: seed))
        }
        return defects
    }

    /// Some cluster must host work, and every cluster that does must reach every other over
    /// working links (work may be handed between any two).
    private static func checkDefects(_ config: WaferConfig, node: ConfigNode) throws {
        guard config.clusterCount <= 4096 || config.defects.isEmpty else {
            throw node.error("defects are supported on wafers of up to 4096 clusters")
        }
        let mesh = Mesh(config: config)
        let working = (0..<config.clusterCount).filter(mesh.hostsWork)
        guard let first = working.first else {
            throw node.error("no cluster is left with a working TBU")
        }
        for cluster in working
        where !mesh.reachable(from: first, to: cluster) || !mesh.reachable(from: cluster, to: first) {
            throw node.error(
                "the defects cut the mesh: cluster \(cluster) cannot reach cluster \(first) over working links and routers"
                    + " (defective clusters: \(config.defects.clusters), links: \(config.defects.links.map { [$0.a, $0.b] }))"
            )
        }
    }

    private static func parseLink(_ node: ConfigNode, default value: LinkConfig) throws -> LinkConfig {
        let m = try node.mapping(allowed: ["hop_latency_cycles", "bandwidth_bytes_per_cycle"])
        var link = value
        if let n = m.optional("hop_latency_cycles") {
            link.hopLatency = try n.cycles(atMost: Limits.largestDuration)
            if link.hopLatency == 0 { throw n.error("must be at least 1 cycle (it bounds the lookahead)") }
        }
        link.bandwidthBytesPerCycle =
            try m.optional("bandwidth_bytes_per_cycle")?.int(in: 1...1_000_000) ?? link.bandwidthBytesPerCycle
        return link
    }
}
