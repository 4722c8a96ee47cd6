import Foundation
import WaferModel

/// PE-array time over virtual time, per cluster, gathered from the trace records as they stream
/// past (so it costs the engines nothing and is the same in one process and across processes):
/// cycles spent running task blocks (a split's lent arrays included) and reconfiguring, in bins
/// whose width doubles whenever the run outgrows ``maximumBins``, so memory stays bounded.
/// The records are counted on a thread of their own (``TraceBatches``), off the run's; reading
/// the bins waits for everything appended before.
public final class UtilisationTimeline: TraceSink {
    /// Cycles of one bin of one cluster.
    public struct Bin: Equatable, Sendable {
        public var busy: Cycle = 0
        public var reconfiguring: Cycle = 0
        /// Held by an output waiting for a credit (flow control).
        public var blocked: Cycle = 0
    }

    public let clusters: Int
    /// Working TBUs of each cluster.
    public let tbus: [Int]
    /// Bins kept at most; past them the width doubles and neighbours merge.
    public let maximumBins: Int
    /// Width of a bin in cycles.
    public var width: Cycle { batches.sync { countedWidth } }
    /// `bins[cluster][i]` covers `[i·width, (i+1)·width)`.
    public var bins: [[Bin]] { batches.sync { counted } }
    /// What the counting thread keeps: the bins' width and the bins.
    private var countedWidth: Cycle
    private var counted: [[Bin]]
    private let forward: TraceSink?
    /// Set at the end of `init`: its counting closure refers to the timeline.
    private var batches: TraceBatches!

    /// A timeline for the clusters of `mesh` (each with its working TBUs) that passes every
    /// window on to `forward` (the trace writer).
    public init(mesh: Mesh, forward: TraceSink?, maximumBins: Int = 400, width: Cycle = 1000) {
        clusters = mesh.count
        tbus = (0..<mesh.count).map(mesh.workingTBUs)
        self.forward = forward
        self.maximumBins = maximumBins
        countedWidth = max(1, width)
        counted = Array(repeating: [], count: clusters)
        batches = TraceBatches(label: "octopus.utilisation", backlog: 256) { [weak self] windows in
            guard let self else { return }
            for lists in windows { count(lists) }
        }
    }

    public func append(window lists: [[TimedTraceRecord]]) throws {
        try forward?.append(window: lists)
        try batches.append(lists)
    }

    /// Counts one window's slices into the bins (on the counting thread).
    private func count(_ lists: [[TimedTraceRecord]]) {
        for list in lists {
            for timed in list {
                guard case .slice(let cluster, _, let start, let duration, let kind, _, _) = timed.record,
                    duration > 0, clusters > Int(cluster), cluster >= 0
                else { continue }
                switch kind {
                case .task, .splitPart: add(cluster: Int(cluster), start: start, duration: duration, as: .busy)
                case .reconfigure: add(cluster: Int(cluster), start: start, duration: duration, as: .reconfiguring)
                case .blocked: add(cluster: Int(cluster), start: start, duration: duration, as: .blocked)
                case .control, .operation: continue
                }
            }
        }
    }

    /// The width a timeline that starts at `initial` cycles per bin and doubles past `maximumBins`
    /// has once it covers `[0, end)`: the smallest `initial × 2^k` with `end ≤ width × maximumBins`.
    public static func binWidth(covering end: Cycle, maximumBins: Int = 400, initial: Cycle = 1000) -> Cycle {
        var width = max(1, initial)
        while end > width.multipliedReportingOverflow(by: Cycle(maximumBins)).partialValue, width < Cycle.max / 4 {
            width *= 2
        }
        return width
    }

    /// Which part of a bin a slice counts in.
    enum Share { case busy, reconfiguring, blocked }

    /// Spreads `[start, start + duration)` over the bins it covers (a switch rather than a key
    /// path: this runs for every slice of the run).
    func add(cluster: Int, start: Cycle, duration: Cycle, as share: Share) {
        let end = start.adding(duration)
        while end > countedWidth.multipliedReportingOverflow(by: Cycle(maximumBins)).partialValue,
            countedWidth < Cycle.max / 4
        {
            coarsen()
        }
        var time = start
        while time < end {
            let index = Int(time / countedWidth)
            let binEnd = min(end, Cycle(index + 1) * countedWidth)
            if counted[cluster].count <= index {
                counted[cluster] += Array(repeating: Bin(), count: index + 1 - counted[cluster].count)
            }
            switch share {
            // Saturating: slices come from the clusters, and a broken one's may overlap without end.
            case .busy: counted[cluster][index].busy = counted[cluster][index].busy.adding(binEnd - time)
            case .reconfiguring:
                counted[cluster][index].reconfiguring = counted[cluster][index].reconfiguring.adding(binEnd - time)
            case .blocked: counted[cluster][index].blocked = counted[cluster][index].blocked.adding(binEnd - time)
            }
            time = binEnd
        }
    }

    /// Doubles the width, merging neighbouring bins.
    private func coarsen() {
        countedWidth *= 2
        for cluster in counted.indices {
            let old = counted[cluster]
            counted[cluster] = stride(from: 0, to: old.count, by: 2).map { index in
                var merged = old[index]
                if index + 1 < old.count {
                    merged.busy = merged.busy.adding(old[index + 1].busy)
                    merged.reconfiguring = merged.reconfiguring.adding(old[index + 1].reconfiguring)
                    merged.blocked = merged.blocked.adding(old[index + 1].blocked)
                }
                return merged
            }
        }
    }

    /// CSV: one row per cluster and bin up to `end`, with the share of the cluster's PE-array time
    /// spent busy, reconfiguring, starved, unassigned and blocked. The idle columns come from the
    /// clusters' `idle` timelines (indexed by cluster) and are left empty where one is missing (a
    /// run that stopped before its clusters reported). Bins are as wide as the coarser of the two.
    public func csv(end: Cycle, idle: [IdleTimeline?] = []) -> String {
        let (width, bins) = batches.sync { (countedWidth, counted) }
        var lines = ["cluster,start_cycle,end_cycle,busy,reconfiguring,starved,unassigned,blocked"]
        let binWidth = idle.reduce(width) { max($0, $1?.width ?? 0) }
        let factor = Int(binWidth / width)
        let count = end == 0 ? 0 : Int((end - 1) / binWidth) + 1
        for cluster in 0..<clusters {
            let idleBins = cluster < idle.count ? idle[cluster]?.coarsened(to: binWidth) : nil
            for index in 0..<count {
                let start = Cycle(index) * binWidth
                let stop = min(end, start + binWidth)
                let capacity = Double(stop - start) * Double(tbus[cluster])
                var bin = Bin()
                for fine in stride(from: index * factor, to: min(bins[cluster].count, (index + 1) * factor), by: 1) {
                    bin.busy = bin.busy.adding(bins[cluster][fine].busy)
                    bin.reconfiguring = bin.reconfiguring.adding(bins[cluster][fine].reconfiguring)
                    bin.blocked = bin.blocked.adding(bins[cluster][fine].blocked)
                }
                var row =
                    "\(cluster),\(start),\(stop),\(Self.fraction(bin.busy, capacity)),\(Self.fraction(bin.reconfiguring, capacity))"
                if let idleBins, idleBins.width == binWidth {
                    let starved = index < idleBins.starved.count ? idleBins.starved[index] : 0
                    let unassigned = index < idleBins.unassigned.count ? idleBins.unassigned[index] : 0
                    row +=
                        ",\(Self.fraction(starved, capacity)),\(Self.fraction(unassigned, capacity)),\(Self.fraction(bin.blocked, capacity))"
                } else {
                    row += ",,,"
                }
                lines.append(row)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func fraction(_ cycles: Cycle, _ capacity: Double) -> String {
        capacity > 0 ? fourDecimals(min(1, Double(cycles) / capacity)) : "0"
    }

    /// `value` with four decimals, exactly as `String(format: "%.4f", value)` writes it. The tables'
    /// values (fractions, imbalance peaks) are non-negative and small: there the product
    /// `value × 10⁴` is off by less than 10⁻⁷, far inside the margin kept from a rounding tie, so
    /// rounding it rounds the exact value as the C library does, and the digits are written here.
    /// Next to a tie, and for any other value, the C library formats it (through `vsnprintf`
    /// directly: Foundation's formatting took 0.2 s for the timeline of a 16×16 run, and even the
    /// C library's took ~10% of the coordinator's time after such a run).
    static func fourDecimals(_ value: Double) -> String {
        if value.sign == .plus, value < 100_000 {
            let scaled = value * 10_000
            let whole = scaled.rounded(.down)
            let fraction = scaled - whole
            if abs(fraction - 0.5) > 1e-6 {
                return fixedPoint(tenThousandths: UInt64(whole) + (fraction > 0.5 ? 1 : 0))
            }
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            let written = withVaList([value]) { vsnprintf(buffer.baseAddress!, buffer.count, "%.4f", $0) }
            guard written > 0, written < buffer.count else { return String(format: "%.4f", value) }
            return String(cString: buffer.baseAddress!)
        }
    }

    /// `units / 10⁴` written with four decimals.
    private static func fixedPoint(tenThousandths units: UInt64) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            var position = buffer.count
            func put(_ digit: UInt64) {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(digit)
            }
            var rest = units
            for _ in 0..<4 {
                put(rest % 10)
                rest /= 10
            }
            position -= 1
            buffer[position] = UInt8(ascii: ".")
            repeat {
                put(rest % 10)
                rest /= 10
            } while rest > 0
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[position...]), as: UTF8.self)
        }
    }
}

/// Writes a run's per-request outcomes as CSV (`requests.csv`), the data behind latency
/// distributions and throughput over time.
public enum RequestTable {
    /// The table as UTF-8 bytes, rendered into one buffer without a string per row: a run of a
    /// long trace has millions of rows, and a string per row, the joined text and its copies came
    /// to 7 MB at the end of a 60,000-request run (its heap peak fell from 26.3 to 24.1 MB).
    public static func csvBytes(_ records: [CoordinatorEngine.Record], library: WorkflowLibrary) -> [UInt8] {
        let names = library.workflows.map { Array($0.name.utf8) }
        var text = JSONBytes()
        text.bytes.reserveCapacity(80 + records.count * 48)
        text.append("request,workflow,status,injected_cycle,finished_cycle,latency_cycles,cluster\n")
        for record in records.sorted(by: { $0.outcome.request < $1.outcome.request }) {
            let o = record.outcome
            text.append(o.request)
            text.append(",")
            if Int(o.workflow) < names.count { text.append(names[Int(o.workflow)]) } else { text.append("?") }
            if o.status == .completed { text.append(",completed,") } else { text.append(",rejected,") }
            text.append(o.injected)
            text.append(",")
            text.append(o.finished)
            text.append(",")
            text.append(o.finished >= o.injected ? o.finished - o.injected : 0)
            text.append(",")
            text.append(Int(o.cluster))
            text.append("\n")
        }
        return text.bytes
    }

    /// The same table as text.
    public static func csv(_ records: [CoordinatorEngine.Record], library: WorkflowLibrary) -> String {
        String(decoding: csvBytes(records, library: library), as: UTF8.self)
    }
}

/// The files a run writes beside `trace.json` and `summary.json`, for `octopus report` and for
/// anyone's own analysis: `requests.csv` (one row per finished request), `timeline.csv` (PE-array
/// time per cluster over virtual time), `episodes.csv` (imbalance episodes and idleness cascades)
/// and `wafer.json` (the wafer configuration as run, in the wafer file's format).
public enum RunTables {
    /// Writes both tables of `session` into `directory`; `stats` are the clusters' final reports
    /// (empty when the run stopped before they came).
    public static func write(
        to directory: String, session: WaferSession, timeline: UtilisationTimeline?, stats: [ClusterStats]
    ) throws {
        let coordinator = session.coordinator
        // The wafer as run, in the wafer file's format: for reports (the mesh and dies of the heat
        // map), for the record, and to run it again (`--wafer RUN/wafer.json`).
        try coordinator.config.document().write(
            to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("wafer.json")))
        // Written from the rendered bytes as they are (no second copy of a table that can be tens of MB).
        let requests = RequestTable.csvBytes(coordinator.records, library: coordinator.library)
        try requests.withUnsafeBytes { table in
            try Data(
                bytesNoCopy: UnsafeMutableRawPointer(mutating: table.baseAddress!), count: table.count,
                deallocator: .none
            ).write(
                to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("requests.csv")),
                options: .atomic)
        }
        if let timeline {
            var idle = [IdleTimeline?](repeating: nil, count: timeline.clusters)
            for report in stats where report.cluster >= 0 && report.cluster < idle.count {
                idle[report.cluster] = report.idleTimeline
            }
            try timeline.csv(end: session.accountingEnd, idle: idle).write(
                toFile: (directory as NSString).appendingPathComponent("timeline.csv"), atomically: true,
                encoding: .utf8)
        }
        try episodesCSV(session: session, stats: stats).write(
            toFile: (directory as NSString).appendingPathComponent("episodes.csv"), atomically: true, encoding: .utf8)
    }

    /// `episodes.csv`: every imbalance episode and every cascade of idleness over two or more
    /// clusters (see ``Episodes``), one row each.
    static func episodesCSV(session: WaferSession, stats: [ClusterStats]) -> String {
        let config = session.coordinator.config
        let end = session.accountingEnd
        var lines = ["kind,start_cycle,end_cycle,peak_imbalance,clusters,idle_periods,open"]
        for episode in Episodes.imbalance(session.coordinator.imbalance, end: end) {
            lines.append(
                "imbalance,\(episode.start),\(episode.end),\(UtilisationTimeline.fourDecimals(episode.peak)),,,\(episode.open)"
            )
        }
        var starts = [[Cycle]](repeating: [], count: config.clusterCount)
        for report in stats where report.cluster >= 0 && report.cluster < starts.count {
            starts[report.cluster] = report.idleStartsInOrder().times
        }
        for cascade in Episodes.cascades(starts: starts, mesh: config.mesh, window: config.cluster.loadSignalPeriod) {
            lines.append(
                "idle cascade,\(cascade.start),\(cascade.end),,\(cascade.clusters.map(String.init).joined(separator: " ")),\(cascade.idlePeriods),false"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
