import Emulation
import Foundation
import WaferModel

/// `report.html`: one self-contained page (Chart.js inlined, the data embedded as JSON) with, per
/// run, latency distributions, throughput and requests in flight over virtual time, PE-array
/// utilisation over time and per cluster, a heat map of the wafer, imbalance and contagion, and
/// the emulator's own cost; with several runs, a comparison first.
public enum ReportPage {
    /// Points kept per curve (latency CDFs and timelines are thinned to this many).
    static let points = 240

    /// The page for `runs` with `chartLibrary` (Chart.js source) inlined.
    public static func html(runs: [RunData], chartLibrary: String) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: ["runs": runs.map(runObject)], options: [.sortedKeys])
        // JSON inside a <script> element must not close it.
        let json = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
        let title =
            runs.count == 1
            ? "Octopus run \(runs[0].name)" : "Octopus runs: \(runs.map(\.name).joined(separator: ", "))"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>\(style)</style>
            <script>\(chartLibrary.replacingOccurrences(of: "</script", with: "<\\/script"))</script>
            </head><body>
            <h1>\(escape(title))</h1>
            <p class="note">All latencies, rates and times are in <b>virtual</b> time — the emulated wafer's clock — except the emulator's own cost.</p>
            <div id="report"></div>
            <script type="application/json" id="data">\(json)</script>
            <script>\(script)</script>
            </body></html>

            """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Every `n`-th of `values` so at most `points` remain (the last always kept).
    static func thin<T>(_ values: [T]) -> [T] {
        guard values.count > points else { return values }
        let step = Double(values.count - 1) / Double(points - 1)
        return (0..<points).map { values[Int((Double($0) * step).rounded())] }
    }

    static func runObject(_ run: RunData) -> [String: Any] {
        let results = run.summary.results
        let mhz = Double(results.clockMhz)
        let end = max(results.endCycles, run.requests.map(\.finished).max() ?? 0)

        // Latency CDFs: every workflow and all together.
        var byWorkflow: [String: [Double]] = [:]
        for request in run.requests where request.completed {
            byWorkflow[request.workflow, default: []].append(Double(request.finished - request.injected) / mhz)
        }
        byWorkflow["all"] = byWorkflow.values.flatMap { $0 }
        let cdfs = byWorkflow.keys.sorted().map { name -> [String: Any] in
            let sorted = byWorkflow[name]!.sorted()
            let points = thin(Array(sorted.enumerated())).map {
                [max($0.element, 0.001), Double($0.offset + 1) / Double(sorted.count)]
            }
            return ["name": name, "points": points]
        }

        // Throughput and requests in flight over virtual time.
        let bins = max(1, min(points, Int(end / 1000) + 1))
        let width = max(1.0, Double(end) / Double(bins))
        var completions = [Int](repeating: 0, count: bins)
        var events: [(Cycle, Int)] = []
        for request in run.requests {
            events.append((request.injected, 1))
            events.append((request.finished, -1))
            if request.completed { completions[min(bins - 1, Int(Double(request.finished) / width))] += 1 }
        }
        events.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        var inFlight: [Int] = []
        var level = 0
        var index = 0
        for bin in 0..<bins {
            let binEnd = Cycle(Double(bin + 1) * width)
            while index < events.count, events[index].0 <= binEnd {
                level += events[index].1
                index += 1
            }
            inFlight.append(level)
        }
        let binSeconds = width / mhz / 1_000_000
        let traffic: [String: Any] = [
            "time_ms": (0..<bins).map { Double($0 + 1) * width / mhz / 1000 },
            "throughput": completions.map { Double($0) / binSeconds }, "in_flight": inFlight,
        ]

        // PE-array time over virtual time, thinned by merging neighbouring bins.
        var perCluster = [[RunData.TimelineBin]](repeating: [], count: results.clusters)
        for bin in run.timeline where bin.cluster < results.clusters { perCluster[bin.cluster].append(bin) }
        let merge = max(1, ((perCluster.first?.count ?? 0) + points - 1) / points)
        typealias Shares = (
            time: Double, busy: Double, reconfiguring: Double, starved: Double, unassigned: Double,
            blocked: Double
        )
        func merged(_ bins: [RunData.TimelineBin]) -> [Shares] {
            stride(from: 0, to: bins.count, by: merge).map { start in
                let group = bins[start..<min(bins.count, start + merge)]
                let span = max(1, group.reduce(0.0) { $0 + Double($1.end - $1.start) })
                func mean(_ share: (RunData.TimelineBin) -> Double) -> Double {
                    group.reduce(0.0) { $0 + share($1) * Double($1.end - $1.start) } / span
                }
                return (
                    Double(group.last!.end) / mhz / 1000, mean(\.busy), mean(\.reconfiguring),
                    mean { $0.starved ?? 0 }, mean { $0.unassigned ?? 0 }, mean { $0.blocked ?? 0 }
                )
            }
        }
        let series = perCluster.map(merged)
        let times = series.first?.map(\.time) ?? []
        func wafer(_ share: (Shares) -> Double) -> [Double] {
            times.indices.map { i in series.reduce(0.0) { $0 + share($1[i]) } / Double(max(1, series.count)) }
        }
        var utilisation: [String: Any] = [
            "time_ms": times, "busy": wafer(\.busy), "reconfiguring": wafer(\.reconfiguring),
            // Per-cluster lines only while they stay readable.
            "clusters": series.count <= 16 ? series.map { $0.map(\.busy) } : [],
        ]
        if run.hasIdleTimeline {
            utilisation["starved"] = wafer(\.starved)
            utilisation["unassigned"] = wafer(\.unassigned)
            utilisation["blocked"] = wafer(\.blocked)
        }
        let links = (results.links ?? []).map { link -> [String: Any] in
            var entry: [String: Any] = [
                "from": link.from, "to": link.to, "load": link.load, "bytes": link.bytes, "inter_die": link.interDie,
            ]
            // Contention model: how busy the link really was, and how long transfers waited for it.
            if let busy = link.utilisation { entry["busy"] = busy }
            if let wait = link.meanQueueingCycles { entry["mean_wait_cycles"] = wait }
            return entry
        }
        let imbalanceEpisodes = run.episodes.filter { $0.kind == "imbalance" }.sorted {
            ($0.end - $0.start, $1.start) > ($1.end - $1.start, $0.start)
        }.prefix(10).map { e -> [String: Any] in
            [
                "start_us": Double(e.start) / mhz, "duration_us": Double(e.end - e.start) / mhz,
                "peak": e.peakImbalance ?? 0, "open": e.open ? "yes" : "no",
            ]
        }
        let cascades = run.episodes.filter { $0.kind == "idle cascade" }.prefix(10).map { e -> [String: Any] in
            [
                "start_us": Double(e.start) / mhz, "duration_us": Double(e.end - e.start) / mhz,
                "clusters": e.clusters.count, "members": e.clusters.map(String.init).joined(separator: " "),
                "idle_periods": e.idlePeriods ?? 0,
            ]
        }
        let episodeCounts = [
            "imbalance": run.episodes.filter { $0.kind == "imbalance" }.count,
            "cascades": run.episodes.filter { $0.kind == "idle cascade" }.count,
        ]

        let breakdown = results.clusterDetails.map { cluster -> [String: Any] in
            let n = Double(max(1, cluster.tbus.count))
            func mean(_ part: (RunSummary.TimeBreakdown) -> Double) -> Double {
                cluster.tbus.reduce(0.0) { $0 + part($1.time) } / n
            }
            return [
                "cluster": cluster.cluster, "busy": mean(\.busy), "reconfiguring": mean(\.reconfiguring),
                "starved": mean(\.starved), "unassigned": mean(\.unassigned), "blocked": mean(\.blocked),
                "utilisation": cluster.utilisation,
            ]
        }
        func requestsRow(_ name: String, _ q: RunSummary.Requests) -> [String: Any] {
            var row: [String: Any] = [
                "workflow": name, "injected": q.injected, "completed": q.completed, "rejected": q.rejected,
                "throughput": q.throughputPerSecond,
            ]
            if let l = q.latency {
                row["mean"] = l.meanCycles / mhz
                row["p50"] = l.p50Us
                row["p95"] = l.p95Us
                row["p99"] = l.p99Us
                row["max"] = l.maxUs
            }
            if let missed = q.deadlineMisses { row["missed"] = missed }
            return row
        }
        let table =
            results.workflows.keys.sorted().map { requestsRow($0, results.workflows[$0]!) }
            + [requestsRow("all", results.overall)]
        var host: [String: Any] = [:]
        if let h = run.summary.host {
            host = [
                "processes": h.processes, "wall_seconds": h.wallSeconds, "events_per_second": h.eventsPerSecond,
                "task_blocks_per_second": h.taskBlocksPerSecond, "method": h.synchronisation.method,
                "windows": h.synchronisation.windows, "rounds": h.synchronisation.rounds,
                "decision_mean_ns": h.decisionMeanNanoseconds, "setup_seconds": h.setupSeconds,
            ]
        }
        // How the run was made, when its summary says (runs from before it do not).
        var provenance: [String: Any] = [:]
        if let h = run.summary.host {
            if let command = h.commandLine { provenance["command_line"] = command.joined(separator: " ") }
            if let build = h.build {
                provenance["build"] =
                    "\(build.id ?? "(no build ID)") (\(build.configuration), window protocol \(build.wireProtocol))"
            }
            if let others = h.clusterBuilds {
                provenance["cluster_builds"] = others.map {
                    "clusters \($0.clusters.map(String.init).joined(separator: ", ")): build \($0.build ?? "unknown")"
                }
            }
            if let inputs = h.inputs {
                provenance["inputs"] = inputs.map { ["path": $0.path, "bytes": $0.bytes, "sha256": $0.sha256] }
            }
        }
        return [
            "name": run.name, "wafer": results.wafer, "scheduler": results.scheduler, "clock_mhz": results.clockMhz,
            "end_ms": Double(results.endCycles) / mhz / 1000, "complete": run.summary.complete ?? true,
            "mesh": [
                "rows": run.wafer.rows, "columns": run.wafer.columns, "die_rows": run.wafer.dieRows,
                "die_columns": run.wafer.dieColumns,
            ],
            "cdfs": cdfs, "table": table, "traffic": traffic, "utilisation": utilisation, "breakdown": breakdown,
            "links": links, "imbalance_episodes": imbalanceEpisodes, "cascades": cascades,
            "defects": [
                "clusters": results.defects?.clusters ?? [],
                "tbus": (results.defects?.tbus ?? []).map { ["cluster": $0.cluster, "tbu": $0.tbu] },
                "links": (results.defects?.links ?? []).map { [$0.a, $0.b] },
            ],
            "episode_counts": episodeCounts,
            "imbalance": [
                "mean": results.imbalance.mean, "episodes": results.imbalance.episodes,
                "fraction": results.imbalance.imbalancedFraction, "timeline": results.imbalance.timeline,
                "mean_resolution_us": results.imbalance.meanResolutionUs,
            ],
            "contagion": [
                "index": results.contagion.index, "observed": results.contagion.observed,
                "expected": results.contagion.expected, "idle_periods": results.contagion.idlePeriods,
            ],
            "overall_utilisation": results.utilisation, "host": host, "provenance": provenance,
        ]
    }

    static let style = """
        body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
        h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.1em;margin-top:1.5em}
        .note{color:#555}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
        .chart{position:relative;height:320px}table{border-collapse:collapse;font-size:.9em}
        td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}
        td:first-child,th:first-child{text-align:left}
        svg.mesh{max-width:100%;height:auto}
        """

    /// Draws every chart from the embedded data, then records on <body> how many canvases hold
    /// pixels (`data-charts-drawn` of `data-charts`), any script error (`data-errors`), the heat
    /// maps' cells and link arrows drawn / in the data (`data-mesh-cells`, `data-mesh-links`), the
    /// defective parts marked on them (`data-mesh-defects`: clusters, clusters with dead TBUs, links) and
    /// the PE-array states each run's timeline stacks (`data-states`), which the browser test reads.
    static let script = #"""
        const errors = [];
        window.addEventListener('error', e => { errors.push(String(e.message)); document.body.dataset.errors = errors.join(' | '); });
        const data = JSON.parse(document.getElementById('data').textContent);
        const root = document.getElementById('report');
        const colours = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
        const colour = i => colours[i % colours.length];
        const charts = [];
        function el(tag, attrs, text) { const e = document.createElement(tag); Object.assign(e, attrs || {}); if (text !== undefined) e.textContent = text; return e; }
        function chart(parent, title, config) {
          const box = el('div'); box.appendChild(el('h3', {}, title));
          const holder = el('div', {className: 'chart'}); const canvas = el('canvas'); holder.appendChild(canvas); box.appendChild(holder); parent.appendChild(box);
          config.options = Object.assign({animation: false, responsive: true, maintainAspectRatio: false}, config.options || {});
          charts.push({canvas, chart: new Chart(canvas, config)});
        }
        function table(parent, columns, rows) {
          const t = el('table'); const head = el('tr'); columns.forEach(c => head.appendChild(el('th', {}, c[0]))); t.appendChild(head);
          rows.forEach(r => { const tr = el('tr'); columns.forEach(c => { const v = r[c[1]]; tr.appendChild(el('td', {}, v === undefined ? '-' : (typeof v === 'number' ? (Number.isInteger(v) ? v.toString() : v.toFixed(c[2] === undefined ? 1 : c[2])) : v))); }); t.appendChild(tr); });
          parent.appendChild(t);
        }
        const linear = (title) => ({type: 'linear', title: {display: true, text: title}});
        function heat(value) { const v = Math.max(0, Math.min(1, value)); return `hsl(${(1 - v) * 220}, 75%, ${80 - v * 35}%)`; }

        if (data.runs.length > 1) {
          const section = el('section'); section.appendChild(el('h2', {}, 'Comparison')); root.appendChild(section);
          const grid = el('div', {className: 'grid'}); section.appendChild(grid);
          chart(grid, 'Latency distribution, all workflows (virtual µs)', {type: 'line', data: {datasets: data.runs.map((r, i) => ({label: r.name, data: (r.cdfs.find(c => c.name === 'all') || {points: []}).points.map(p => ({x: p[0], y: p[1]})), borderColor: colour(i), pointRadius: 0}))}, options: {scales: {x: Object.assign(linear('latency (virtual µs)'), {type: 'logarithmic'}), y: linear('fraction of requests')}}});
          const overall = data.runs.map(r => r.table.find(t => t.workflow === 'all'));
          chart(grid, 'Throughput and p99 latency per run', {type: 'bar', data: {labels: data.runs.map(r => r.name), datasets: [{label: 'requests per virtual s', data: overall.map(o => o.throughput), backgroundColor: colour(0), yAxisID: 'y'}, {label: 'p99 (virtual µs)', data: overall.map(o => o.p99 || 0), backgroundColor: colour(1), yAxisID: 'y1'}]}, options: {scales: {y: linear('requests per virtual s'), y1: Object.assign(linear('p99 (virtual µs)'), {position: 'right'})}}});
          table(section, [['run', 'name'], ['scheduler', 'scheduler'], ['wafer', 'wafer'], ['utilisation', 'utilisation', 3], ['req per virtual s', 'throughput', 0], ['p99 virtual µs', 'p99']], data.runs.map((r, i) => Object.assign({name: r.name, scheduler: r.scheduler, wafer: r.wafer, utilisation: r.overall_utilisation}, overall[i])));
        }

        let meshCells = 0, meshLinks = 0, meshDefects = 0; const stateCounts = [];
        data.runs.forEach((run, index) => {
          const section = el('section'); root.appendChild(section);
          section.appendChild(el('h2', {}, `${run.name}: ${run.wafer}, scheduler ${run.scheduler}${run.complete ? '' : ' (incomplete run)'}`));
          section.appendChild(el('p', {className: 'note'}, `virtual end ${run.end_ms.toFixed(3)} ms at ${run.clock_mhz} MHz; PE-array utilisation ${(run.overall_utilisation * 100).toFixed(1)}%`));
          table(section, [['workflow', 'workflow'], ['injected', 'injected'], ['done', 'completed'], ['rejected', 'rejected'], ['missed deadline', 'missed'], ['mean µs', 'mean'], ['p50 µs', 'p50'], ['p95 µs', 'p95'], ['p99 µs', 'p99'], ['max µs', 'max'], ['req per virtual s', 'throughput', 0]], run.table);
          const grid = el('div', {className: 'grid'}); section.appendChild(grid);
          chart(grid, 'Latency distribution per workflow', {type: 'line', data: {datasets: run.cdfs.map((c, i) => ({label: c.name, data: c.points.map(p => ({x: p[0], y: p[1]})), borderColor: colour(i), borderWidth: c.name === 'all' ? 3 : 1.5, pointRadius: 0}))}, options: {scales: {x: Object.assign(linear('latency (virtual µs)'), {type: 'logarithmic'}), y: linear('fraction of requests')}}});
          chart(grid, 'Throughput and requests in flight', {type: 'line', data: {labels: run.traffic.time_ms.map(t => t.toFixed(2)), datasets: [{label: 'completions per virtual s', data: run.traffic.throughput, borderColor: colour(0), pointRadius: 0, yAxisID: 'y'}, {label: 'in flight', data: run.traffic.in_flight, borderColor: colour(1), pointRadius: 0, yAxisID: 'y1', stepped: true}]}, options: {scales: {x: linear('virtual time (ms)'), y: linear('per virtual s'), y1: Object.assign(linear('requests'), {position: 'right'})}}});
          const u = run.utilisation;
          const parts = [['busy', '#2ca02c'], ['reconfiguring', '#ff7f0e'], ['starved', '#d62728'], ['unassigned', '#7f7f7f'], ['blocked', '#9467bd']];
          const states = parts.filter(p => u[p[0]] !== undefined); stateCounts.push(states.length);
          chart(grid, 'Wafer PE-array time over virtual time' + (states.length < parts.length ? ' (busy and reconfiguring; this run has no idle split)' : ''), {type: 'line', data: {labels: u.time_ms.map(t => t.toFixed(2)), datasets: states.map((p, i) => ({label: p[0], data: u[p[0]], borderColor: p[1], backgroundColor: p[1] + 'aa', fill: i === 0 ? 'origin' : '-1', pointRadius: 0, borderWidth: 1}))}, options: {scales: {x: linear('virtual time (ms)'), y: Object.assign(linear('share of PE-array time'), {stacked: true, min: 0, max: 1})}}});
          if (u.clusters.length) chart(grid, 'Each cluster\'s busy share over virtual time', {type: 'line', data: {labels: u.time_ms.map(t => t.toFixed(2)), datasets: u.clusters.map((c, i) => ({label: `cluster ${i}`, data: c, borderColor: colour(i), borderWidth: 1, pointRadius: 0}))}, options: {scales: {x: linear('virtual time (ms)'), y: Object.assign(linear('share of PE-array time'), {min: 0, max: 1})}}});
          chart(grid, 'Where each cluster\'s PE-array time went', {type: 'bar', data: {labels: run.breakdown.map(b => `${b.cluster}`), datasets: parts.map(p => ({label: p[0], data: run.breakdown.map(b => b[p[0]]), backgroundColor: p[1]}))}, options: {scales: {x: Object.assign(linear('cluster'), {type: 'category', stacked: true}), y: Object.assign(linear('share of time'), {stacked: true, min: 0, max: 1})}}});
          chart(grid, `Load imbalance over the run (${run.imbalance.episodes} episodes, ${(run.imbalance.fraction * 100).toFixed(1)}% of the time)`, {type: 'line', data: {labels: run.imbalance.timeline.map((_, i) => `${(i + 1) * 5}%`), datasets: [{label: 'coefficient of variation of pending cycles', data: run.imbalance.timeline, borderColor: colour(4)}]}, options: {scales: {x: Object.assign(linear('share of the run'), {type: 'category'}), y: linear('imbalance')}}});
          // The wafer heat map: one cell per cluster (colour = utilisation), dies outlined, and each
          // directed link as an arrow beside its wire (colour = its traffic's share of its capacity).
          const box = el('div'); box.appendChild(el('h3', {}, 'Wafer heat map: clusters by PE-array utilisation, links by traffic'));
          const m = run.mesh; const cell = 54, gap = 26, pad = 8;
          const ns = 'http://www.w3.org/2000/svg';
          const svg = document.createElementNS(ns, 'svg');
          const width = pad * 2 + m.columns * cell + (m.columns - 1) * gap, height = pad * 2 + m.rows * cell + (m.rows - 1) * gap;
          svg.setAttribute('width', width); svg.setAttribute('height', height); svg.setAttribute('viewBox', `0 0 ${width} ${height}`); svg.setAttribute('class', 'mesh');
          function node(tag, attrs, text) { const e = document.createElementNS(ns, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; return e; }
          const x = c => pad + c * (cell + gap), y = r => pad + r * (cell + gap);
          for (let dr = 0; dr < m.rows; dr += m.die_rows) for (let dc = 0; dc < m.columns; dc += m.die_columns) {
            const rows = Math.min(m.die_rows, m.rows - dr), cols = Math.min(m.die_columns, m.columns - dc);
            svg.appendChild(node('rect', {x: x(dc) - pad / 2, y: y(dr) - pad / 2, width: cols * cell + (cols - 1) * gap + pad, height: rows * cell + (rows - 1) * gap + pad, fill: 'none', stroke: '#222', 'stroke-width': 2, 'stroke-dasharray': '6 3'}));
          }
          // Defective parts (wafer file `defects:`): dead clusters grey and crossed out, clusters with
          // dead TBUs say how many, dead links a dashed red wire with a cross.
          const dead = new Set(run.defects.clusters);
          for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.columns; c++) {
            const id = r * m.columns + c; const b = run.breakdown.find(v => v.cluster === id) || {utilisation: 0};
            const deadTBUs = run.defects.tbus.filter(t => t.cluster === id).length;
            const g = node('g', {});
            if (dead.has(id)) {
              g.appendChild(node('title', {}, `cluster ${id}: defective (never used; routes go around it)`));
              g.appendChild(node('rect', {x: x(c), y: y(r), width: cell, height: cell, rx: 4, fill: '#bbb', stroke: '#666', class: 'defective'}));
              g.appendChild(node('path', {d: `M${x(c) + 6},${y(r) + 6}L${x(c) + cell - 6},${y(r) + cell - 6}M${x(c) + cell - 6},${y(r) + 6}L${x(c) + 6},${y(r) + cell - 6}`, stroke: '#666', 'stroke-width': 2}));
              g.appendChild(node('text', {x: x(c) + cell / 2, y: y(r) + cell / 2 + 4, 'text-anchor': 'middle', 'font-size': 11}, `${id}`));
              meshDefects++;
            } else {
              g.appendChild(node('title', {}, `cluster ${id}: ${(b.utilisation * 100).toFixed(1)}% busy` + (deadTBUs ? `; ${deadTBUs} defective TBU${deadTBUs > 1 ? 's' : ''} (utilisation counts working TBUs only)` : '')));
              g.appendChild(node('rect', {x: x(c), y: y(r), width: cell, height: cell, rx: 4, fill: heat(b.utilisation), stroke: deadTBUs ? '#c00' : 'none', 'stroke-dasharray': '3 2'}));
              g.appendChild(node('text', {x: x(c) + cell / 2, y: y(r) + cell / 2 - 3, 'text-anchor': 'middle', 'font-size': 11}, `${id}`));
              g.appendChild(node('text', {x: x(c) + cell / 2, y: y(r) + cell / 2 + 11, 'text-anchor': 'middle', 'font-size': 10}, `${(b.utilisation * 100).toFixed(0)}%` + (deadTBUs ? ` −${deadTBUs}` : '')));
              if (deadTBUs) meshDefects++;
            }
            svg.appendChild(g);
          }
          run.defects.links.forEach(([a, b]) => {
            const ar = Math.floor(a / m.columns), ac = a % m.columns, br = Math.floor(b / m.columns), bc = b % m.columns;
            const x1 = x(Math.min(ac, bc)) + (ar === br ? cell : cell / 2), y1 = y(Math.min(ar, br)) + (ar === br ? cell / 2 : cell);
            const x2 = ar === br ? x(Math.max(ac, bc)) : x1, y2 = ar === br ? y1 : y(Math.max(ar, br));
            const g = node('g', {class: 'defective'}); g.appendChild(node('title', {}, `link ${a} – ${b}: defective (both directions; routes detour)`));
            g.appendChild(node('path', {d: `M${x1},${y1}L${x2},${y2}`, stroke: '#c00', 'stroke-width': 2, 'stroke-dasharray': '4 3'}));
            const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
            g.appendChild(node('path', {d: `M${mx - 5},${my - 5}L${mx + 5},${my + 5}M${mx + 5},${my - 5}L${mx - 5},${my + 5}`, stroke: '#c00', 'stroke-width': 2}));
            svg.appendChild(g); meshDefects++;
          });
          // Under the contention model links are coloured by the time they were busy, else by the traffic offered.
          const contended = run.links.some(l => l.busy !== undefined);
          const level = l => contended ? l.busy : l.load;
          const maxLoad = run.links.reduce((a, l) => Math.max(a, level(l)), 0);
          run.links.forEach(l => {
            const fr = Math.floor(l.from / m.columns), fc = l.from % m.columns, tr = Math.floor(l.to / m.columns), tc = l.to % m.columns;
            // Two arrows per wire: eastward/southward on one side, westward/northward on the other.
            const forward = tr > fr || tc > fc; const off = forward ? -6 : 6;
            let x1, y1, x2, y2;
            if (fr === tr) { y1 = y2 = y(fr) + cell / 2 + off; x1 = forward ? x(fc) + cell + 3 : x(fc) - 3; x2 = forward ? x(tc) - 3 : x(tc) + cell + 3; }
            else { x1 = x2 = x(fc) + cell / 2 + off; y1 = forward ? y(fr) + cell + 3 : y(fr) - 3; y2 = forward ? y(tr) - 3 : y(tr) + cell + 3; }
            const share = maxLoad > 0 ? level(l) / maxLoad : 0;
            const line = node('line', {x1, y1, x2, y2, stroke: heat(share), 'stroke-width': 2 + 4 * share, 'stroke-linecap': 'round'});
            line.appendChild(node('title', {}, `link ${l.from} → ${l.to}${l.inter_die ? ' (between dies)' : ''}: ${l.bytes} bytes, ${(l.load * 100).toFixed(2)}% of its capacity` + (contended ? `, busy ${(l.busy * 100).toFixed(2)}% of the run, mean wait ${l.mean_wait_cycles.toFixed(1)} cycles` : '')));
            svg.appendChild(line);
          });
          box.appendChild(svg);
          meshCells += m.rows * m.columns; meshLinks += run.links.length;
          box.appendChild(el('p', {className: 'note'}, run.links.length ? (contended ? `Links: colour and width relative to the busiest link (busy ${(maxLoad * 100).toFixed(2)}% of the run; contended links: transfers wait for each other, hover for the mean wait).` : `Links: colour and width relative to the busiest link (${(maxLoad * 100).toFixed(2)}% of its capacity over the run). Links are pure delays in this run (links.model: delay): the traffic offered, not contention.`) : 'No traffic between clusters (or a run written before links were counted).'));
          if (run.defects.clusters.length + run.defects.tbus.length + run.defects.links.length) box.appendChild(el('p', {className: 'note'}, 'Defective parts (the wafer\'s defects:): grey crossed-out clusters, red dashed crossed wires (dead links, both directions), red-outlined clusters with the number of their dead TBUs (−N); nothing runs on them and routes go around them.'));
          grid.appendChild(box);
          // Imbalance and contagion, episode by episode.
          const episodes = el('div'); episodes.appendChild(el('h3', {}, 'Imbalance episodes and cascades of idleness'));
          episodes.appendChild(el('p', {className: 'note'}, `Contagious idleness: index ${run.contagion.index.toFixed(2)} (observed ${(run.contagion.observed * 100).toFixed(1)}% vs ${(run.contagion.expected * 100).toFixed(1)}% by chance over ${run.contagion.idle_periods} idle periods). ${run.episode_counts.imbalance} imbalance episodes (coefficient of variation of pending cycles above 1 until it falls to 0.5); ${run.episode_counts.cascades} cascades (idle periods starting on neighbouring clusters within the load-signal period of each other) reached two or more clusters.`));
          if (run.imbalance_episodes.length) { episodes.appendChild(el('p', {}, 'Longest imbalance episodes')); table(episodes, [['start (virtual µs)', 'start_us'], ['lasted (virtual µs)', 'duration_us'], ['peak imbalance', 'peak', 2], ['open at the end', 'open']], run.imbalance_episodes); }
          if (run.cascades.length) { episodes.appendChild(el('p', {}, 'Widest cascades of idleness')); table(episodes, [['start (virtual µs)', 'start_us'], ['lasted (virtual µs)', 'duration_us'], ['clusters', 'clusters'], ['idle periods', 'idle_periods'], ['which', 'members']], run.cascades); }
          grid.appendChild(episodes);
          if (Object.keys(run.host).length) {
            section.appendChild(el('h3', {}, 'The emulator\'s own cost (wall time)'));
            table(section, [['processes', 'processes'], ['method', 'method'], ['wall s', 'wall_seconds', 3], ['setup s', 'setup_seconds', 2], ['events/s', 'events_per_second', 0], ['task blocks/s', 'task_blocks_per_second', 0], ['windows', 'windows'], ['rounds', 'rounds'], ['mean decision ns', 'decision_mean_ns', 0]], [run.host]);
          }
          const made = run.provenance;
          if (made.command_line || made.build || made.inputs) {
            const part = el('div', {className: 'provenance'}); part.appendChild(el('h3', {}, 'How this run was made'));
            if (made.command_line) { part.appendChild(el('p', {}, 'Command: ')).appendChild(el('code', {}, made.command_line)); }
            if (made.build) { part.appendChild(el('p', {}, 'Build: ')).appendChild(el('code', {}, made.build)); }
            (made.cluster_builds || []).forEach(b => part.appendChild(el('p', {className: 'note'}, 'Another build: ' + b)));
            if (made.inputs && made.inputs.length) { part.appendChild(el('p', {}, 'Files read (sha256sum prints the same digest while a file is unchanged):')); table(part, [['file', 'path'], ['bytes', 'bytes'], ['SHA-256', 'sha256']], made.inputs); }
            section.appendChild(part);
          }
        });

        // For tests and for people: how many charts hold pixels.
        const drawn = charts.filter(({canvas}) => { const ctx = canvas.getContext('2d'); if (!canvas.width || !canvas.height) return false;
          const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data; for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true; return false; }).length;
        document.body.dataset.charts = String(charts.length);
        document.body.dataset.chartsDrawn = String(drawn);
        document.body.dataset.meshCells = String(meshCells);
        document.body.dataset.meshDefects = String(meshDefects);
        document.body.dataset.meshLinks = String(document.querySelectorAll('svg.mesh line').length) + '/' + String(meshLinks);
        document.body.dataset.states = stateCounts.join(',');
        document.body.dataset.provenance = String(document.querySelectorAll('div.provenance').length) + '/' + String(document.querySelectorAll('div.provenance tr').length);
        """#
}
