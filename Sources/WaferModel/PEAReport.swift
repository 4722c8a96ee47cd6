import Foundation

/// Per-layer timing of a topology on one PE array: what `octopus pea` prints and writes.
public struct PEAReport: Sendable {
    public var array: PEArrayConfig
    /// One row per GEMM as it runs (a depthwise layer gives one row per channel, as in SCALE-Sim).
    public var rows: [LayerTiming]

    /// The cluster buffer the layers were fed from (nil: unlimited).
    public var buffer: LayerTiming.ClusterBuffer?

    public init(layers: [Layer], array: PEArrayConfig, buffer: LayerTiming.ClusterBuffer? = nil) {
        self.array = array
        self.buffer = buffer
        rows = layers.flatMap { LayerTiming.of($0, array: array, buffer: buffer) }
    }

    /// SCALE-Sim's COMPUTE_REPORT.csv columns first (its Total Cycles = compute + stall, without
    /// the fill/prefetch), then ours.
    public static let csvHeader =
        "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %, Layer, Compute Cycles, Fill Cycles, Bandwidth Stall Cycles, Buffer Stall Cycles, Total Cycles (incl. fill), Traffic Bytes, M, N, K, Folds,"

    /// The report as CSV.
    public var csv: String {
        var lines = [Self.csvHeader]
        for (id, t) in rows.enumerated() {
            let u = t.utilisation
            lines.append(
                "\(id), \(t.computeCycles + t.stallCycles), \(t.stallCycles), \(u.overall * 100), \(u.mapping * 100), \(u.compute * 100), \(t.name), \(t.computeCycles), \(t.fillCycles), \(t.bandwidthStallCycles), \(t.bufferStallCycles), \(t.totalCycles), \(t.trafficBytes), \(t.m), \(t.n), \(t.k), \(t.folds),"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A readable table.
    public var table: String {
        let a = array
        let bufferText =
            buffer.map { ", cluster buffer \($0.bytes) B refilled at \($0.refillBytesPerCycle) B/cycle" } ?? ""
        var lines = [
            "PE array \(a.rows)×\(a.columns) \(a.dataflow.rawValue.uppercased()), SRAM \(a.sramBytes) B, link \(a.bandwidthBytesPerCycle) B/cycle, \(a.wordBytes) B/word\(bufferText)",
            "",
        ]
        let header = ["id", "layer", "M", "N", "K", "folds", "compute", "fill", "stall", "total", "util %", "map %"]
        var cells = [header]
        for (id, t) in rows.enumerated() {
            cells.append([
                "\(id)", t.name, "\(t.m)", "\(t.n)", "\(t.k)", "\(t.folds)", "\(t.computeCycles)", "\(t.fillCycles)",
                "\(t.stallCycles)", "\(t.totalCycles)", String(format: "%.1f", t.utilisation.overall * 100),
                String(format: "%.1f", t.utilisation.mapping * 100),
            ])
        }
        let total = rows.reduce((Cycle(0), Cycle(0), Cycle(0), Cycle(0))) {
            ($0.0 + $1.computeCycles, $0.1 + $1.fillCycles, $0.2 + $1.stallCycles, $0.3 + $1.totalCycles)
        }
        cells.append([
            "", "all", "", "", "", "\(rows.reduce(0) { $0 + $1.folds })", "\(total.0)", "\(total.1)", "\(total.2)",
            "\(total.3)", "", "",
        ])
        let widths = header.indices.map { column in cells.map { $0[column].count }.max()! }
        for row in cells {
            lines.append(
                zip(row, widths).enumerated().map { index, pair in
                    index == 1
                        ? pair.0.padding(toLength: pair.1, withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: pair.1 - pair.0.count) + pair.0
                }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    /// The report as JSON-ready dictionaries.
    public var jsonObject: [String: Any] {
        [
            "array": [
                "rows": array.rows, "columns": array.columns, "dataflow": array.dataflow.rawValue,
                "sram_bytes": array.sramBytes, "bandwidth_bytes_per_cycle": array.bandwidthBytesPerCycle,
                "word_bytes": array.wordBytes,
            ],
            "layers": rows.enumerated().map { id, t in
                [
                    "id": id, "layer": t.name, "m": t.m, "n": t.n, "k": t.k, "folds": t.folds,
                    "compute_cycles": t.computeCycles, "fill_cycles": t.fillCycles, "stall_cycles": t.stallCycles,
                    "bandwidth_stall_cycles": t.bandwidthStallCycles, "buffer_stall_cycles": t.bufferStallCycles,
                    "total_cycles": t.totalCycles, "traffic_bytes": t.trafficBytes,
                    "overall_util": t.utilisation.overall, "mapping_efficiency": t.utilisation.mapping,
                    "compute_util": t.utilisation.compute,
                ] as [String: Any]
            },
        ]
    }
}
