import Foundation

/// Renders a ``RunSummary`` as canonical JSON (sorted keys: byte-identical for equal summaries)
/// and as the human table printed at the end of a run.
public enum SummaryRenderer {
    /// Canonical JSON with snake_case keys.
    public static func json(_ summary: RunSummary) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var data = try encoder.encode(summary)
        data.append(0x0A)
        return data
    }

    /// Decodes a summary written by ``json(_:)``.
    public static func decode(_ data: Data) throws -> RunSummary {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(RunSummary.self, from: data)
    }

    /// A readable table of the results and the emulator's own cost.
    public static func table(_ summary: RunSummary) -> String {
        let r = summary.results
        var lines: [String] = []
        lines.append(
            "Wafer \(r.wafer): \(r.clusters) clusters × \(r.tbusPerCluster) TBUs, \(r.clockMhz) MHz, seed \(r.seed), scheduler \(r.scheduler)"
        )
        if let defects = r.defects {
            var parts: [String] = []
            if !defects.clusters.isEmpty {
                parts.append("clusters \(defects.clusters.map(String.init).joined(separator: ", "))")
            }
            if !defects.tbus.isEmpty {
                parts.append(
                    "TBUs \(defects.tbus.map { "\($0.cluster).\($0.tbu)" }.joined(separator: ", ")) (cluster.TBU)")
            }
            if !defects.links.isEmpty {
                parts.append("links \(defects.links.map { "\($0.a)-\($0.b)" }.joined(separator: ", "))")
            }
            lines.append("Defective (never used; routes go around them): \(parts.joined(separator: "; "))")
        }
        if let admission = r.admission {
            lines.append(
                "Admission control: at most \(admission.maxInFlight) unfinished requests; \(admission.rejected) refused on arrival (queues never reject)"
            )
        }
        lines.append("Latencies and throughput are in virtual time (the emulated wafer's clock), not wall time.")
        lines.append("")
        let header =
            pad("workflow", 22) + pad("injected", 10) + pad("done", 8) + pad("rejected", 10) + pad("missed", 8)
            + pad("mean", 11) + pad("p50", 11) + pad("p95", 11) + pad("p99", 11) + pad("max", 11) + "req per"
        let units =
            pad("", 58) + pad("virtual µs", 11) + pad("virtual µs", 11) + pad("virtual µs", 11) + pad("virtual µs", 11)
            + pad("virtual µs", 11) + "virtual s"
        lines.append(header)
        lines.append(units)
        lines.append(String(repeating: "-", count: max(header.count, units.count)))
        func row(_ name: String, _ q: RunSummary.Requests) -> String {
            let l = q.latency
            // Deadline misses exist only for workflows with a deadline.
            let missed = q.deadlineMisses.map { "\($0)" } ?? "-"
            let mean = l.map { $0.meanCycles / Double(r.clockMhz) }
            return pad(name, 22) + pad("\(q.injected)", 10) + pad("\(q.completed)", 8) + pad("\(q.rejected)", 10)
                + pad(missed, 8) + pad(fmt(mean), 11) + pad(fmt(l?.p50Us), 11) + pad(fmt(l?.p95Us), 11)
                + pad(fmt(l?.p99Us), 11) + pad(fmt(l?.maxUs), 11) + String(format: "%.0f", q.throughputPerSecond)
        }
        for name in r.workflows.keys.sorted() { lines.append(row(name, r.workflows[name]!)) }
        lines.append(row("all", r.overall))
        lines.append("")
        lines.append(
            String(
                format:
                    "PE-array utilisation %.1f%%  (reconfiguring %.1f%%, starved %.1f%%, unassigned %.1f%%, blocked %.1f%%)",
                r.utilisation * 100, r.time.reconfiguring * 100, r.time.starved * 100, r.time.unassigned * 100,
                r.time.blocked * 100))
        let perCluster = r.clusterDetails.map { String(format: "%d:%.0f%%", $0.cluster, $0.utilisation * 100) }.joined(
            separator: " ")
        lines.append("per cluster: \(perCluster)")
        lines.append(
            "messages \(r.messages.total) (\(r.messages.byKind.keys.sorted().map { "\($0) \(r.messages.byKind[$0]!)" }.joined(separator: ", "))), bytes×hops \(r.messages.byteHops), local flows \(r.messages.localFlows)"
        )
        if r.linkModel != nil, let links = r.links {
            lines.append(contentionLine(links: links, ports: r.ports ?? []))
        }
        if let blocks = r.scheduling.fillOverlapBlocks, let cycles = r.scheduling.fillOverlapCycles {
            lines.append("fill overlap: \(blocks) blocks started with their first fill loaded, \(cycles) cycles saved")
        }
        let e = r.emulation
        lines.append(
            "virtual end \(r.endCycles) cycles (\(e.syncMode) synchronisation, lookahead \(e.lookaheadCycles) cycles); \(e.events) events"
                + (e.quantumDelayedMessages > 0
                    ? "; \(e.quantumDelayedMessages) messages deferred by \(e.quantumDelayCycles) cycles in total" : "")
        )
        if let h = summary.host {
            let s = h.synchronisation
            lines.append(
                "host synchronisation: \(s.method)"
                    + (s.windows > 0
                        ? ", \(s.windows) windows, \(String(format: "%.1f", Double(s.clusterWindows) / Double(s.windows))) clusters active per window, \(s.rounds) rounds"
                            + (s.speculativeWindows > 0
                                ? " (\(s.speculativeWindows) speculative windows, \(s.reruns) re-runs"
                                    + ((s.avoidedReruns ?? 0) > 0 ? " and \(s.avoidedReruns!) avoided" : "")
                                    + ", \(s.abandonedWindows) abandoned)"
                                : "")
                            + ((s.heldMessages ?? 0) > 0 ? ", \(s.heldMessages!) messages held for idle clusters" : "")
                            + ((s.mergedViews ?? 0) > 0 ? " (\(s.mergedViews!) views merged)" : "")
                        : "")
            )
            lines.append(
                String(
                    format:
                        "host: %d processes, %.3f s wall, %.0f events/s, %.0f task blocks/s, %.0f windows/s (%.0f µs each), %.3g virtual cycles/s, sync overhead %.0f%%",
                    h.processes, h.wallSeconds, h.eventsPerSecond, h.taskBlocksPerSecond, h.windowsPerSecond,
                    h.meanWindowMicroseconds, h.virtualCyclesPerWallSecond, h.syncOverheadFraction * 100))
            if let cpus = h.cpus { lines.append(pinningLine(cpus)) }
            for other in h.clusterBuilds ?? [] {
                lines.append(
                    "warning: clusters \(other.clusters.map(String.init).joined(separator: ", ")) ran build \(other.build ?? "unknown"), not the coordinator's \(h.build?.id ?? "unknown")"
                )
            }
            if let pace = h.pace {
                lines.append(
                    String(
                        format: "paced at %g virtual µs per wall µs; reached %.3g", pace, h.paceReached ?? 0))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Where a pinned wafer's processes ran: "pinned: the coordinator on CPU 1; clusters 0–3,
    /// 8–11 on CPU 1, 4–7 on CPU 0" (CPUs in the order the first cluster of each was placed).
    static func pinningLine(_ cpus: RunSummary.Host.CPUs) -> String {
        var order: [Int] = []
        var byCPU: [Int: [Int]] = [:]
        for (cluster, cpu) in cpus.clusters.enumerated() {
            if byCPU[cpu] == nil { order.append(cpu) }
            byCPU[cpu, default: []].append(cluster)
        }
        func ranges(_ ids: [Int]) -> String {
            var parts: [String] = []
            var index = 0
            while index < ids.count {
                var last = index
                while last + 1 < ids.count, ids[last + 1] == ids[last] + 1 { last += 1 }
                parts.append(last == index ? "\(ids[index])" : "\(ids[index])–\(ids[last])")
                index = last + 1
            }
            return parts.joined(separator: ", ")
        }
        let clusters = order.map { cpu in
            let ids = byCPU[cpu]!
            return "\(ids.count == 1 ? "cluster" : "clusters") \(ranges(ids)) on CPU \(cpu)"
        }
        return "pinned: the coordinator on CPU \(cpus.coordinator)"
            + (clusters.isEmpty ? "" : "; " + clusters.joined(separator: ", "))
    }

    /// The busiest link and port, and the mean wait of a transfer per link it crossed.
    private static func contentionLine(links: [RunSummary.Link], ports: [RunSummary.Port]) -> String {
        var text = "links contended:"
        guard let busiest = links.max(by: { ($0.utilisation ?? 0) < ($1.utilisation ?? 0) }) else {
            return text + " no transfers crossed the mesh"
        }
        let crossings = links.reduce(0.0) { $0 + Double($1.transfers) }
        let waited = links.reduce(0.0) { $0 + ($1.meanQueueingCycles ?? 0) * Double($1.transfers) }
        text += String(
            format:
                " busiest link %d→%d %.1f%% busy (mean wait %.1f, longest %d cycles); mean wait per link crossed %.1f cycles",
            busiest.from, busiest.to, (busiest.utilisation ?? 0) * 100, busiest.meanQueueingCycles ?? 0,
            busiest.maxQueueingCycles ?? 0, crossings == 0 ? 0 : waited / crossings)
        if let port = ports.max(by: { $0.utilisation < $1.utilisation }) {
            text +=
                "; busiest port: cluster \(port.cluster) \(port.port) "
                + String(format: "%.1f%% busy (mean wait %.1f cycles)", port.utilisation * 100, port.meanQueueingCycles)
        }
        return text
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private static func fmt(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.1f", value)
    }
}
