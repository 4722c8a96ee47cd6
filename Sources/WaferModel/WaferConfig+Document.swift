import Foundation

extension WaferConfig {
    /// The configuration in the wafer file's own format (docs/configuration.md), as JSON — which
    /// is YAML, so ``WaferConfigLoader`` reads it back to an equal configuration: what a run writes
    /// as `wafer.json`, so that `octopus run --wafer RUN/wafer.json` runs the same wafer again.
    /// Every field is written, defaults too, and defects drawn from a yield as the clusters, TBUs
    /// and links they gave.
    public func document() -> Data {
        var links: [String: Any] = [
            "model": interconnect.model.rawValue,
            "intra_die": Self.document(of: intraDie), "inter_die": Self.document(of: interDie),
            "control_latency_cycles": controlLatency,
        ]
        if interconnect.model == .contention {
            links["port_bandwidth_bytes_per_cycle"] = interconnect.portBandwidthBytesPerCycle
        }
        var cluster: [String: Any] = [
            "tbus": self.cluster.tbus, "cbus": self.cluster.cbus, "buffer_bytes": self.cluster.bufferBytes,
            "buffer_refill_bytes_per_cycle": self.cluster.bufferRefillBytesPerCycle,
            "queue_capacity": self.cluster.queueCapacity,
            "reconfiguration_cycles": self.cluster.reconfigurationCycles,
            "control_block_cycles": self.cluster.controlBlockCycles,
            "load_signal_period_cycles": self.cluster.loadSignalPeriod, "overlap_fill": self.cluster.overlapsFill,
            "pe_array": [
                "rows": self.cluster.peArray.rows, "columns": self.cluster.peArray.columns,
                "dataflow": self.cluster.peArray.dataflow.rawValue, "sram_bytes": self.cluster.peArray.sramBytes,
                "bandwidth_bytes_per_cycle": self.cluster.peArray.bandwidthBytesPerCycle,
                "word_bytes": self.cluster.peArray.wordBytes,
            ] as [String: Any],
        ]
        if let credits = self.cluster.flowCredits { cluster["flow_credits"] = credits }
        var admission: [String: Any] = ["policy": self.admission.policy.rawValue]
        if let limit = self.admission.maxInFlight { admission["max_in_flight"] = limit }
        var document: [String: Any] = [
            "name": name, "clock_mhz": clockMHz, "seed": seed,
            "mesh": ["rows": rows, "columns": columns, "die_rows": dieRows, "die_columns": dieColumns],
            "links": links, "cluster": cluster,
            "sync": ["mode": sync.mode.rawValue, "window_cycles": sync.window, "speculation": sync.speculation]
                as [String: Any],
            "admission": admission,
        ]
        if !defects.isEmpty {
            document["defects"] =
                [
                    "clusters": defects.clusters,
                    "tbus": defects.tbus.map { ["cluster": $0.cluster, "tbu": $0.tbu] },
                    "links": defects.links.map { [$0.a, $0.b] },
                ] as [String: Any]
        }
        // Every value above is a string, a Bool or an integer: serialisation cannot fail.
        var data =
            (try? JSONSerialization.data(
                withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        data.append(UInt8(ascii: "\n"))
        return data
    }

    private static func document(of link: LinkConfig) -> [String: Any] {
        ["hop_latency_cycles": link.hopLatency, "bandwidth_bytes_per_cycle": link.bandwidthBytesPerCycle]
    }
}
