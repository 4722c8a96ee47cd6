import Emulation
import Foundation

/// The Markdown and CSV of a compare matrix. Both contain only virtual-time results, so the same
/// matrix gives byte-identical files on every machine and with any `--jobs`.
public struct CompareReport {
    public var matrix: CompareMatrix
    public var runs: [CompareRun]
    /// The command line that produced the runs (quoted in the Markdown).
    public var command: String
    /// Lines describing the seeds (wafer seed, each workload's injection seeds).
    public var seeds: [String]

    public init(matrix: CompareMatrix, runs: [CompareRun], command: String, seeds: [String]) {
        self.matrix = matrix
        self.runs = runs
        self.command = command
        self.seeds = seeds
    }

    /// The baselines the scheduler under test is compared with, as table columns (a swept
    /// baseline: its best setting).
    public var baselineColumns: [String] { matrix.registry.baselines.map(\.name) }
    var octopus: String { matrix.underTest }

    /// Which octopus builds made the runs, for the report's first line: one build, or each with
    /// its count of runs (a compare resumed or merged across builds), in order of first run.
    var builds: String {
        var order: [String?] = []
        var counts: [String?: Int] = [:]
        for run in runs {
            if counts[run.build] == nil { order.append(run.build) }
            counts[run.build, default: 0] += 1
        }
        func name(_ build: String?) -> String { build.map { "`\($0)`" } ?? "an unrecorded build" }
        switch order.count {
        case 0: return ""
        case 1: return order[0] == nil ? "" : " with octopus build \(name(order[0]))"
        default:
            let each = order.map { "\(name($0)) (\(counts[$0]!) runs)" }.joined(separator: ", ")
            return
                " with \(order.count) octopus builds — \(each) — whose results agree only if they were built from the same sources"
        }
    }

    var latencyLoad: Double { matrix.loads.first ?? 1 }
    var throughputLoad: Double { matrix.loads.last ?? 1 }

    // MARK: CSV

    /// One row per run with every metric.
    public func csv() -> String {
        var lines = [
            "workload,size,clusters,load,scheduler,replicate,injected,completed,rejected,throughput_per_s,p50_us,p99_us,deadline_misses,"
                + "utilisation,busy,reconfiguring,starved,unassigned,blocked,contagion_index,imbalance_mean,imbalance_episodes,"
                + "imbalance_resolution_us,migrations,migration_byte_hops,reconfigurations,proactive_reconfigurations,splits,prediction_wape"
        ]
        for run in runs {
            let r = run.results
            let misses = r.workflows.values.compactMap(\.deadlineMisses).reduce(0, +)
            let fields: [String] = [
                run.workload, "\(run.size)", "\(run.size.clusters)", Self.number(run.load, 2), run.scheduler,
                "\(run.replicateNumber)", "\(r.overall.injected)", "\(r.overall.completed)", "\(r.overall.rejected)",
                Self.number(r.overall.throughputPerSecond, 1),
                r.overall.latency.map { Self.number($0.p50Us, 1) } ?? "",
                r.overall.latency.map { Self.number($0.p99Us, 1) } ?? "", "\(misses)",
                Self.number(r.utilisation, 4), Self.number(r.time.busy, 4), Self.number(r.time.reconfiguring, 4),
                Self.number(r.time.starved, 4),
                Self.number(r.time.unassigned, 4), Self.number(r.time.blocked, 4), Self.number(r.contagion.index, 3),
                Self.number(r.imbalance.mean, 4),
                "\(r.imbalance.episodes)", Self.number(r.imbalance.meanResolutionUs, 1), "\(r.scheduling.migrations)",
                "\(r.scheduling.migrationByteHops)",
                "\(r.scheduling.reconfigurations)", "\(r.scheduling.proactiveReconfigurations)",
                "\(r.scheduling.splits)",
                r.scheduling.predictionError.map { Self.number($0, 4) } ?? "",
            ]
            lines.append(fields.map(Self.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"")
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    // MARK: Markdown

    /// The report: speedups per size, the absolute numbers, the ablation ladder and the chosen
    /// reactive settings.
    public func markdown() -> String {
        var out: [String] = []
        out.append("# Octopus against the baselines")
        out.append("")
        out.append(
            "Produced by `\(command)`\(builds); every run is in one process in virtual time, so the numbers are the same on any machine with the same build."
        )
        out.append("")
        out.append(
            "- Wafer sizes: \(matrix.sizes.map { "\($0) (\($0.clusters) clusters)" }.joined(separator: ", ")); workloads scaled by clusters / \(matrix.referenceClusters) (rate and requests), so the load per cluster is the same at every size."
        )
        out.append("- Workloads: \(matrix.workloads.joined(separator: ", ")).")
        out.append(
            "- Offered loads: \(matrix.loads.map { Self.number($0, 2) + "×" }.joined(separator: ", ")) the workload's rate. Latency (p99) is compared at \(Self.number(latencyLoad, 2))×, throughput (completed requests per virtual second) at \(Self.number(throughputLoad, 2))×."
        )
        for sweep in matrix.sweeps {
            out.append(
                "- \(sweep.baseline): the best of \(sweep.settings.map { "`\($0)`" }.joined(separator: ", ")) by p99 latency, chosen per workload and size."
            )
        }
        switch matrix.admission {
        case .inFlight:
            out.append(
                "- Overload: one admission control in front of every scheduler — a request is refused on arrival while the wafer holds its limit of unfinished requests (clusters × queue capacity unless the wafer sets `admission.max_in_flight`); queues never reject, so no scheduler loses work inside a workflow. Saturated throughput is reported with these refusals beside it."
            )
        case .queues:
            out.append(
                "- Overload: each scheduler's queues reject beyond their capacity (cluster queues; `fifo`'s global queue holds clusters × capacity), including work inside a workflow."
            )
        }
        if !matrix.schedulerParameters.isEmpty {
            out.append(
                "- Scheduler parameters: \(matrix.schedulerParameters.sorted { $0.key < $1.key }.map { "`\($0.key)=\($0.value)`" }.joined(separator: ", ")) for every scheduler that has them (runs are named without them)."
            )
        }
        for line in seeds { out.append("- \(line)") }
        if matrix.replicates > 1 {
            out.append(
                "- Replicates: \(matrix.replicates) runs of every cell; replicate r adds r to the wafer seed and to every injection seed (replicate 0 uses the seeds above). A speedup is the geometric mean over the replicates of the ratio within each replicate, with its 95% confidence interval in parentheses (Student's t on the log ratios; a geometric mean over workloads is taken within each replicate first); **n.s.** marks an interval that includes 1 (not significant). The reactive setting is chosen per cell by its p99 over all replicates."
            )
        }
        out.append("")
        out.append(
            "Speedups are Octopus over the baseline: throughput ratio (higher is better) and the baseline's p99 latency over Octopus's (above 1: Octopus is faster). \"—\" marks a ratio that does not exist (nothing completed)."
        )
        out.append("")

        out.append("## Speedup of Octopus over each baseline")
        for size in matrix.sizes {
            out.append("")
            out.append("### \(size) (\(size.clusters) clusters)")
            out.append("")
            let columns = baselineColumns
            out.append(
                "| workload | " + columns.map { "throughput vs \($0)" }.joined(separator: " | ") + " | "
                    + columns.map { "p99 vs \($0)" }.joined(separator: " | ") + " |")
            out.append("|---|" + String(repeating: "---:|", count: columns.count * 2))
            let table = speedups(size: size)
            for row in table.rows {
                out.append(
                    "| \(row.workload) | " + (row.throughput + row.latency).map(Self.ratio).joined(separator: " | ")
                        + " |")
            }
            out.append(
                "| **geometric mean** | "
                    + (table.throughput + table.latency).map { "**" + Self.ratio($0) + "**" }.joined(separator: " | ")
                    + " |")
        }

        if !matrix.variants.isEmpty { out += variantsSection() }

        out.append("")
        out.append("## Ablation ladder")
        out.append("")
        out.append(
            "Each step adds one Octopus strategy to the one above it; geometric means over the workloads, relative to `static`"
                + (matrix.replicates > 1
                    ? " (and over the replicates); utilisation, contagion index and imbalance are means over the workloads and the replicates."
                    : ".")
        )
        for size in matrix.sizes {
            out.append("")
            out.append("### \(size)")
            out.append("")
            out.append(
                "| step | throughput vs static | p99 vs static | utilisation | contagion index | imbalance (mean CV) |")
            out.append("|---|---:|---:|---:|---:|---:|")
            for step in ladder(size: size) {
                out.append(
                    "| \(step.label) | \(Self.ratio(step.throughput)) | \(Self.ratio(step.latency)) | \(Self.percent(step.utilisation)) | "
                        + "\(Self.number(step.contagion, 2)) | \(Self.number(step.imbalance, 3)) |")
            }
            for ideal in matrix.registry.ideals {
                let gap = distance(size: size, to: ideal.name)
                out.append("")
                out.append(
                    "`\(octopus)` against its ideal with \(ideal.comparison.ideal ?? "") (`\(ideal.name)`): \(Self.ratio(gap.throughput)) of its throughput and \(Self.ratio(gap.latency)) of its p99 speed (its p99 over `\(octopus)`'s; 1.00× = as good as the ideal), geometric means over the workloads."
                )
            }
        }

        out.append("")
        out.append("## Absolute numbers")
        out.append("")
        out.append(
            "Throughput at \(Self.number(throughputLoad, 2))× load; everything else at \(Self.number(latencyLoad, 2))×\(matrix.replicates > 1 ? "; replicate 0 only (every replicate is in compare.csv)" : ""). Idle time is split into starved (queue empty), unassigned (work queued but not given to this array), reconfiguring and blocked; contagion index is observed / chance-expected share of idle periods starting right after a mesh neighbour's (docs/scheduling.md)."
        )
        for size in matrix.sizes {
            out.append("")
            out.append("### \(size)")
            out.append("")
            out.append(
                "| workload | scheduler | req/s | rejected at \(Self.number(throughputLoad, 2))× | p50 µs | p99 µs | deadline misses | rejected | utilisation | starved | unassigned | reconfiguring | contagion | imbalance |"
            )
            out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for workload in matrix.workloads {
                for column in baselineColumns + [octopus] {
                    let scheduler = CompareAnalysis.resolve(
                        column, matrix, runs, workload: workload, size: size, latencyLoad: latencyLoad)
                    guard
                        let run = CompareAnalysis.find(
                            runs, workload: workload, size: size, load: latencyLoad, scheduler: scheduler)
                    else { continue }
                    let saturated = CompareAnalysis.find(
                        runs, workload: workload, size: size, load: throughputLoad, scheduler: scheduler)
                    let r = run.results
                    let misses = r.workflows.values.compactMap(\.deadlineMisses).reduce(0, +)
                    out.append(
                        "| \(workload) | \(scheduler) | \(saturated.map { Self.number(CompareAnalysis.throughput($0), 0) } ?? "—") | "
                            + "\(saturated.map { "\($0.results.overall.rejected)" } ?? "—") | "
                            + "\(r.overall.latency.map { Self.number($0.p50Us, 0) } ?? "—") | \(r.overall.latency.map { Self.number($0.p99Us, 0) } ?? "—") | \(misses) | \(r.overall.rejected) | "
                            + "\(Self.percent(r.utilisation)) | \(Self.percent(r.time.starved)) | \(Self.percent(r.time.unassigned)) | \(Self.percent(r.time.reconfiguring)) | "
                            + "\(Self.number(r.contagion.index, 2)) | \(Self.number(r.imbalance.mean, 3)) |")
                }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The speedups of the scheduler under test over each baseline at `size`: per workload and
    /// their geometric means (throughput at the last load, p99 latency at the first), in the order
    /// of ``baselineColumns``. Each is an estimate over the replicates; a geometric mean is taken
    /// over the workloads within each replicate first, so its interval is paired by replicate.
    public func speedups(size: CompareMatrix.Size, of scheduler: String? = nil) -> (
        rows: [(workload: String, throughput: [CompareAnalysis.Estimate?], latency: [CompareAnalysis.Estimate?])],
        throughput: [CompareAnalysis.Estimate?], latency: [CompareAnalysis.Estimate?]
    ) {
        let octopus = scheduler ?? self.octopus
        let columns = baselineColumns
        let replicates = matrix.replicateRange
        // [column][replicate] → the ratios of every workload
        var throughputs = [[[Double]]](repeating: replicates.map { _ in [] }, count: columns.count)
        var latencies = [[[Double]]](repeating: replicates.map { _ in [] }, count: columns.count)
        var rows: [(workload: String, throughput: [CompareAnalysis.Estimate?], latency: [CompareAnalysis.Estimate?])] =
            []
        for workload in matrix.workloads {
            var throughputRow: [CompareAnalysis.Estimate?] = []
            var latencyRow: [CompareAnalysis.Estimate?] = []
            for (i, column) in columns.enumerated() {
                let baseline = CompareAnalysis.resolve(
                    column, matrix, runs, workload: workload, size: size, latencyLoad: latencyLoad)
                var t: [Double] = []
                var l: [Double] = []
                for replicate in replicates {
                    if let ratio = CompareAnalysis.throughputSpeedup(
                        runs, workload: workload, size: size, load: throughputLoad, scheduler: octopus,
                        baseline: baseline, replicate: replicate)
                    {
                        t.append(ratio)
                        throughputs[i][replicate].append(ratio)
                    }
                    if let ratio = CompareAnalysis.latencySpeedup(
                        runs, workload: workload, size: size, load: latencyLoad, scheduler: octopus,
                        baseline: baseline, replicate: replicate)
                    {
                        l.append(ratio)
                        latencies[i][replicate].append(ratio)
                    }
                }
                throughputRow.append(CompareAnalysis.estimate(t))
                latencyRow.append(CompareAnalysis.estimate(l))
            }
            rows.append((workload, throughputRow, latencyRow))
        }
        func overWorkloads(_ perReplicate: [[Double]]) -> CompareAnalysis.Estimate? {
            CompareAnalysis.estimate(perReplicate.compactMap(CompareAnalysis.geometricMean))
        }
        return (rows, throughputs.map(overWorkloads), latencies.map(overWorkloads))
    }

    /// `## Variants`: each variant's geometric-mean speedups over the baselines, and per workload
    /// its throughput and p99 relative to the scheduler under test.
    func variantsSection() -> [String] {
        var out: [String] = []
        let columns = baselineColumns
        let schedulers = [octopus] + matrix.variants.filter { $0 != octopus }
        out.append("")
        out.append("## Variants")
        out.append("")
        out.append(
            "Settings run beside the matrix with the same seeds (`--variant`). First: geometric means over the workloads against each baseline, as in the speedup tables (`\(octopus)` first, for reference). Then, per workload, each variant against `\(octopus)`: its throughput over `\(octopus)`'s and `\(octopus)`'s p99 over its own (above 1: the variant is better)."
        )
        for size in matrix.sizes {
            out.append("")
            out.append("### \(size): against the baselines")
            out.append("")
            out.append(
                "| scheduler | " + columns.map { "throughput vs \($0)" }.joined(separator: " | ") + " | "
                    + columns.map { "p99 vs \($0)" }.joined(separator: " | ") + " |")
            out.append("|---|" + String(repeating: "---:|", count: columns.count * 2))
            for scheduler in schedulers {
                let table = speedups(size: size, of: scheduler)
                out.append(
                    "| `\(scheduler)` | " + (table.throughput + table.latency).map(Self.ratio).joined(separator: " | ")
                        + " |")
            }
            let variants = schedulers.dropFirst()
            guard !variants.isEmpty else { continue }
            out.append("")
            out.append("### \(size): against `\(octopus)`")
            out.append("")
            out.append(
                "| workload | " + variants.map { "throughput `\($0)`" }.joined(separator: " | ") + " | "
                    + variants.map { "p99 `\($0)`" }.joined(separator: " | ") + " |")
            out.append("|---|" + String(repeating: "---:|", count: variants.count * 2))
            for workload in matrix.workloads {
                var cells: [CompareAnalysis.Estimate?] = []
                for variant in variants {
                    cells.append(
                        CompareAnalysis.estimate(
                            matrix.replicateRange.compactMap {
                                CompareAnalysis.throughputSpeedup(
                                    runs, workload: workload, size: size, load: throughputLoad, scheduler: variant,
                                    baseline: octopus, replicate: $0)
                            }))
                }
                for variant in variants {
                    cells.append(
                        CompareAnalysis.estimate(
                            matrix.replicateRange.compactMap {
                                CompareAnalysis.latencySpeedup(
                                    runs, workload: workload, size: size, load: latencyLoad, scheduler: variant,
                                    baseline: octopus, replicate: $0)
                            }))
                }
                out.append("| \(workload) | " + cells.map(Self.ratio).joined(separator: " | ") + " |")
            }
        }
        return out
    }

    /// One step of the ablation ladder at one size: geometric means over the workloads relative
    /// to its first step, and means of utilisation, contagion index and imbalance at the latency load.
    public struct LadderStep {
        public var label: String
        public var throughput: Double?
        public var latency: Double?
        public var utilisation: Double
        public var contagion: Double
        public var imbalance: Double
    }

    /// How close the scheduler under test comes to `ideal` at `size`: its throughput over the
    /// ideal's and the ideal's p99 over its own (geometric means over the workloads, estimated
    /// over the replicates).
    public func distance(size: CompareMatrix.Size, to ideal: String) -> (
        throughput: CompareAnalysis.Estimate?, latency: CompareAnalysis.Estimate?
    ) {
        func over(_ ratio: (String, Int) -> Double?) -> CompareAnalysis.Estimate? {
            CompareAnalysis.estimate(
                matrix.replicateRange.compactMap { replicate in
                    CompareAnalysis.geometricMean(matrix.workloads.compactMap { ratio($0, replicate) })
                })
        }
        return (
            over {
                CompareAnalysis.throughputSpeedup(
                    runs, workload: $0, size: size, load: throughputLoad, scheduler: octopus, baseline: ideal,
                    replicate: $1)
            },
            over {
                CompareAnalysis.latencySpeedup(
                    runs, workload: $0, size: size, load: latencyLoad, scheduler: octopus, baseline: ideal,
                    replicate: $1)
            }
        )
    }

    /// The ablation ladder at `size`, then the ideal references (speedups: geometric means over
    /// the workloads within each replicate, then over the replicates; the other columns:
    /// arithmetic means over the workloads and the replicates).
    public func ladder(size: CompareMatrix.Size) -> [LadderStep] {
        let ladder = matrix.registry.ablationLadder
        let base = ladder.first?.name ?? "static"
        return (ladder + matrix.registry.ideals).map { step in
            let name = step.name
            let t = CompareAnalysis.estimate(
                matrix.replicateRange.compactMap { replicate in
                    CompareAnalysis.geometricMean(
                        matrix.workloads.compactMap {
                            CompareAnalysis.throughputSpeedup(
                                runs, workload: $0, size: size, load: throughputLoad, scheduler: name, baseline: base,
                                replicate: replicate)
                        })
                })
            let l = CompareAnalysis.estimate(
                matrix.replicateRange.compactMap { replicate in
                    CompareAnalysis.geometricMean(
                        matrix.workloads.compactMap {
                            CompareAnalysis.latencySpeedup(
                                runs, workload: $0, size: size, load: latencyLoad, scheduler: name, baseline: base,
                                replicate: replicate)
                        })
                })
            let atLatency = matrix.replicateRange.flatMap { replicate in
                matrix.workloads.compactMap {
                    CompareAnalysis.find(
                        runs, workload: $0, size: size, load: latencyLoad, scheduler: name, replicate: replicate)
                }
            }
            let label =
                step.comparison.ideal.map { "ideal: \($0) (`\(name)`)" }
                ?? (name == base
                    ? name : "+ " + (step.comparison.adds ?? name) + (name == octopus ? " (= \(octopus))" : ""))
            return LadderStep(
                label: label, throughput: t?.value, latency: l?.value,
                utilisation: mean(atLatency.map(\.results.utilisation)),
                contagion: mean(atLatency.map(\.results.contagion.index)),
                imbalance: mean(atLatency.map(\.results.imbalance.mean)))
        }
    }

    func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

    // MARK: Formatting (fixed, locale-free)

    static func number(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "—" }
        return String(format: "%.\(decimals)f", value)
    }

    static func ratio(_ value: Double?) -> String { value.map { number($0, 2) + "×" } ?? "—" }

    /// A speedup with its interval when it has one, marked "n.s." when the interval includes 1.
    static func ratio(_ estimate: CompareAnalysis.Estimate?) -> String {
        guard let estimate else { return "—" }
        guard let low = estimate.low, let high = estimate.high else { return ratio(estimate.value) }
        let interval = "\(ratio(estimate.value)) (\(number(low, 2))–\(number(high, 2)))"
        return estimate.significant == false ? interval + " n.s." : interval
    }

    static func percent(_ value: Double) -> String { number(value * 100, 1) + "%" }
}
