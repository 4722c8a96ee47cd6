import Experiments
import Foundation

/// `compare.html`: the speedups of `octopus compare` as bar charts (geometric means over the
/// workloads, and per workload) and the ablation ladder, self-contained like ``ReportPage``.
public enum ComparePage {
    public static func html(_ report: CompareReport, chartLibrary: String) throws -> String {
        let sizes = report.matrix.sizes.map { size -> [String: Any] in
            let table = report.speedups(size: size)
            // Bars show the estimates; their confidence intervals are in compare.md.
            func values(_ list: [CompareAnalysis.Estimate?]) -> [Any] {
                list.map { estimate -> Any in estimate.map { $0.value as Any } ?? NSNull() }
            }
            return [
                "size": "\(size)", "baselines": report.baselineColumns,
                "throughput": values(table.throughput), "latency": values(table.latency),
                "workloads": table.rows.map { row -> [String: Any] in
                    ["workload": row.workload, "throughput": values(row.throughput), "latency": values(row.latency)]
                },
                "ladder": report.ladder(size: size).map { step -> [String: Any] in
                    [
                        "label": step.label, "throughput": step.throughput ?? NSNull(),
                        "latency": step.latency ?? NSNull(),
                        "utilisation": step.utilisation, "contagion": step.contagion, "imbalance": step.imbalance,
                    ]
                },
            ]
        }
        let data = try JSONSerialization.data(
            withJSONObject: ["sizes": sizes, "under_test": report.matrix.underTest, "command": report.command],
            options: [.sortedKeys])
        let json = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>octopus compare</title>
            <style>\(ReportPage.style)</style>
            <script>\(chartLibrary.replacingOccurrences(of: "</script", with: "<\\/script"))</script>
            </head><body>
            <h1>octopus compare</h1>
            <p class="note">Speedups of <b>\(ReportPage.escape(report.matrix.underTest))</b> in virtual time: throughput at the highest load, p99 latency at the lowest (above 1: better). The tables are in compare.md beside this file.</p>
            <div id="report"></div>
            <script type="application/json" id="data">\(json)</script>
            <script>\(script)</script>
            </body></html>

            """
    }

    static let script = #"""
        const errors = [];
        window.addEventListener('error', e => { errors.push(String(e.message)); document.body.dataset.errors = errors.join(' | '); });
        const data = JSON.parse(document.getElementById('data').textContent);
        const root = document.getElementById('report');
        const colours = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
        const charts = [];
        function el(tag, attrs, text) { const e = document.createElement(tag); Object.assign(e, attrs || {}); if (text !== undefined) e.textContent = text; return e; }
        function chart(parent, title, config) {
          const box = el('div'); box.appendChild(el('h3', {}, title));
          const holder = el('div', {className: 'chart'}); const canvas = el('canvas'); holder.appendChild(canvas); box.appendChild(holder); parent.appendChild(box);
          config.options = Object.assign({animation: false, responsive: true, maintainAspectRatio: false}, config.options || {});
          charts.push({canvas, chart: new Chart(canvas, config)});
        }
        const axis = t => ({title: {display: true, text: t}});
        data.sizes.forEach(s => {
          const section = el('section'); root.appendChild(section); section.appendChild(el('h2', {}, `${s.size}`));
          const grid = el('div', {className: 'grid'}); section.appendChild(grid);
          chart(grid, `Geometric-mean speedup of ${data.under_test} over each baseline`, {type: 'bar', data: {labels: s.baselines, datasets: [{label: 'throughput', data: s.throughput, backgroundColor: colours[0]}, {label: 'p99 latency', data: s.latency, backgroundColor: colours[1]}]}, options: {scales: {y: Object.assign(axis('speedup (×)'), {beginAtZero: true})}}});
          chart(grid, 'Ablation ladder (geometric means relative to its first step)', {type: 'bar', data: {labels: s.ladder.map(l => l.label), datasets: [{label: 'throughput', data: s.ladder.map(l => l.throughput), backgroundColor: colours[2]}, {label: 'p99 latency', data: s.ladder.map(l => l.latency), backgroundColor: colours[3]}]}, options: {scales: {y: Object.assign(axis('speedup (×)'), {beginAtZero: true})}}});
          chart(grid, 'Throughput speedup per workload', {type: 'bar', data: {labels: s.workloads.map(w => w.workload), datasets: s.baselines.map((b, i) => ({label: `vs ${b}`, data: s.workloads.map(w => w.throughput[i]), backgroundColor: colours[i % colours.length]}))}, options: {scales: {y: Object.assign(axis('speedup (×)'), {beginAtZero: true})}}});
          chart(grid, 'p99 latency speedup per workload', {type: 'bar', data: {labels: s.workloads.map(w => w.workload), datasets: s.baselines.map((b, i) => ({label: `vs ${b}`, data: s.workloads.map(w => w.latency[i]), backgroundColor: colours[i % colours.length]}))}, options: {scales: {y: Object.assign(axis('speedup (×)'), {beginAtZero: true})}}});
        });
        const drawn = charts.filter(({canvas}) => { const ctx = canvas.getContext('2d'); if (!canvas.width || !canvas.height) return false;
          const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data; for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true; return false; }).length;
        document.body.dataset.charts = String(charts.length);
        document.body.dataset.chartsDrawn = String(drawn);
        """#
}
