import ArgumentParser
import Emulation
import Experiments
import Foundation
import Reports
import Runtime
import Scheduling
import WaferModel

/// `octopus compare`: the matrix (its default subcommand) and `merge`.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run every scheduler on every workload and wafer size; write the speedup tables (Markdown and CSV).",
        discussion:
            "`octopus compare [options]` runs the matrix: `octopus compare matrix --help` lists its options (sizes, workloads, loads, --jobs, --out, --resume, --shard). `octopus compare merge DIR…` joins the directories of a sharded compare.",
        subcommands: [Matrix.self, Merge.self], defaultSubcommand: Matrix.self)
}

/// The matrix itself (`octopus compare [options]`, also `octopus compare matrix`).
struct Matrix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Run every scheduler on every workload and wafer size; write the speedup tables (Markdown and CSV).",
        discussion: """
            Runs static, reactive (swept: the best setting by p99 latency is reported), fifo, score and \
            the ablation ladder static → +dual → +adaptive → +proactive → +diffusion (= octopus) on each \
            workload at each wafer size, in process and in virtual time, --jobs runs at a time. Workloads \
            are scaled to each size (rate and requests × clusters / --reference-clusters) so the load per \
            cluster is constant. Latency is compared at the first --loads value, throughput at the last. \
            Writes DIR/compare.md, DIR/compare.csv and DIR/compare.html (charts) and prints the Markdown. The results depend only on \
            the inputs and their seeds (listed in the report), never on --jobs or the machine.

            Runs are written to DIR/compare-runs.jsonl as they finish: an interrupted compare continues \
            with --resume (the same command and --out). A big matrix can be spread over machines or a \
            batch system's job array: --shard I/N runs every N-th (wafer size, workload) cell starting \
            with the I-th and keeps its runs in its --out; `octopus compare merge DIR…` joins the N \
            directories into the same reports an unsharded compare writes.

            With --seeds N every cell runs N times with different seeds and each speedup is reported \
            with its 95% confidence interval; an interval that includes 1 is marked n.s.

            Example (small and quick): octopus compare --sizes 2x2 --workloads recsys --loads 1
            """)

    @Option(help: "Base wafer (YAML); each size reshapes its mesh and keeps the rest.")
    var wafer = "Configs/wafers/default.yaml"

    @Option(
        help:
            "Directory of workflow files (YAML), for workloads that do not name their own (`workflows:` in the workload file)."
    )
    var workflows = "Configs/workflows"

    @Option(help: "Comma-separated workloads: names in --workload-dir or YAML paths.")
    var workloads = CompareMatrix.defaultWorkloads.joined(separator: ",")

    @Option(help: "Directory the workload names are looked up in.")
    var workloadDir = "Configs/workloads"

    @Option(help: "Comma-separated wafer sizes in clusters, RxC.")
    var sizes = CompareMatrix.defaultSizes.map(\.description).joined(separator: ",")

    @Option(
        help:
            "Comma-separated offered loads (multiples of each workload's rate); latency at the first, throughput at the last."
    )
    var loads = "1,4"

    @Option(help: "Cluster count the workload files are written for (their rate is scaled by clusters / this).")
    var referenceClusters = 16

    @Option(
        help:
            "Runs of every cell with different seeds (replicate r adds r to the wafer seed and every injection seed); from 2 on, speedups get 95% confidence intervals and n.s. marks."
    )
    var seeds = 1

    @Option(
        help:
            "How runs refuse work under overload: in_flight (one admission control in front of every scheduler: at most clusters × queue_capacity unfinished requests, or the wafer's admission.max_in_flight) or queues (each scheduler's queues reject)."
    )
    var admission = "in_flight"

    @Option(
        name: .customLong("variant"),
        help:
            "A scheduler setting to run in every cell beside the matrix (repeatable), e.g. --variant octopus:lend=1; the report compares each with the baselines and with the scheduler under test."
    )
    var variants: [String] = []

    @Option(
        help:
            "Parameter values for every scheduler that has them and whose text does not set them, e.g. period=100000000,horizon=1000000000 for workloads whose blocks last seconds."
    )
    var schedulerParameters: String?

    @Option(help: "Runs at a time (default: the number of cores).")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Output directory for compare.md and compare.csv.")
    var out = "runs/compare"

    @Flag(help: "Print no progress lines (only the report).")
    var quiet = false

    @Option(help: "Run one slice of the matrix: the I-th of N (1 ≤ I ≤ N); join the slices with `compare merge`.")
    var shard: String?

    @Flag(help: "Continue the compare whose runs are in --out (the same command and shard), skipping finished runs.")
    var resume = false

    @Flag(help: "Replace the reports of a finished compare in --out instead of refusing.")
    var overwrite = false

    func run() throws {
        do {
            let matrix = try parseMatrix()
            try Self.checkReports(in: out, overwrite: overwrite)
            var slice = CompareRunner.Shard.all
            if let shard {
                guard let parsed = CompareRunner.Shard.parse(shard) else {
                    throw ValidationError("--shard: '\(shard)' is not I/N with 1 ≤ I ≤ N (e.g. 2/4)")
                }
                slice = parsed
            }
            let base = try WaferConfigLoader.load(path: wafer)
            let library = try WorkflowLibrary.load(directory: workflows)
            var injections: [String: [Injection]] = [:]
            // A workload that names its own workflow directory runs with that library.
            var libraries: [String: WorkflowLibrary] = [:]
            var loaded: [String: WorkflowLibrary] = [workflows: library]
            var seedLines = [
                "Wafer seed \(base.seed) (from \(wafer)); every random stream of a run derives from it and the injection seeds."
            ]
            for name in matrix.workloads {
                let path = name.hasSuffix(".yaml") || name.contains("/") ? name : "\(workloadDir)/\(name).yaml"
                var own = library
                if let directory = try WorkloadLoader.workflowDirectory(path: path) {
                    own = try loaded[directory] ?? WorkflowLibrary.load(directory: directory)
                    loaded[directory] = own
                    libraries[name] = own
                }
                let workload = try WorkloadLoader.load(path: path, library: own)
                injections[name] = workload
                seedLines.append(
                    "\(name) (\(path)\(libraries[name] == nil ? "" : ", its own workflows")): injection seeds \(workload.map { "\($0.workflow)=\($0.seed)" }.joined(separator: ", "))."
                )
            }
            guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
            var runner = CompareRunner(matrix: matrix, base: base, library: library, workloads: injections, jobs: jobs)
            runner.libraries = libraries
            runner.build = BuildInfo.id
            let quiet = self.quiet
            // On a terminal one line is redrawn with the time left; in a log, one line per run.
            let line = ProgressLine.onStandardError(quiet: quiet)
            let lock = NSLock()
            runner.progress = { done, total, run in
                guard !quiet else { return }
                if line.enabled {
                    lock.lock()
                    defer { lock.unlock() }
                    let eta = ProgressLine.remaining(done: Double(done), total: Double(total), elapsed: line.elapsed)
                    line.draw(
                        "runs \(done)/\(total) · last: \(run.workload) \(run.size) \(run.scheduler)"
                            + (eta.map { String(format: " · ETA %.0f s", $0) } ?? ""), force: done == total)
                    if done == total { line.finish() }
                    return
                }
                let p99 =
                    run.results.overall.latency.map { String(format: "p99 %.0f µs", $0.p99Us) } ?? "nothing completed"
                FileHandle.standardError.write(
                    Data(
                        "[\(done)/\(total)] \(run.workload) \(run.size) load \(run.load) \(run.scheduler): \(p99), \(String(format: "%.0f", run.results.overall.throughputPerSecond)) req/s\n"
                            .utf8))
            }
            let header = CompareJournal.Header(command: commandLine(), matrix: matrix, seeds: seedLines, shard: slice)
            let (journal, done) = try CompareJournal.open(directory: out, header: header, resume: resume)
            if !done.isEmpty && !quiet {
                FileHandle.standardError.write(Data("resuming: \(done.count) runs already in \(journal.path)\n".utf8))
            }
            let runs = try runner.run(shard: slice, done: done) { journal.append($0) }
            journal.close()
            guard slice == .all else {
                FileHandle.standardError.write(
                    Data(
                        "shard \(slice): \(runs.count) runs in \(journal.path); when every shard has finished: octopus compare merge DIR… --out DIR\n"
                            .utf8))
                return
            }
            try Self.writeReports(
                CompareReport(matrix: matrix, runs: runs, command: commandLine(), seeds: seedLines), to: out,
                quiet: quiet)
            // Complete: the journal has served its purpose (its runs are in compare.csv).
            try? FileManager.default.removeItem(atPath: journal.path)
        } catch let error as ValidationError {
            throw error
        } catch {
            exitReporting(error)
        }
    }

    /// The reports a finished compare leaves in its --out.
    static let reportFiles = ["compare.md", "compare.csv", "compare.html"]

    /// Refuses an --out that holds a finished compare's reports unless `overwrite`: a compare of
    /// the whole matrix takes hours, and another one (the default --out is always runs/compare)
    /// replaced its reports without a word.
    static func checkReports(in out: String, overwrite: Bool) throws {
        let present = reportFiles.filter {
            FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent($0))
        }
        guard overwrite || present.isEmpty else {
            throw ValidationError(
                "--out '\(out)' already holds a finished compare (\(present.joined(separator: ", "))): choose another directory, or give --overwrite to replace it"
            )
        }
    }

    /// Writes compare.md, compare.csv and compare.html into `out` and prints the Markdown.
    static func writeReports(_ report: CompareReport, to out: String, quiet: Bool) throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let markdown = report.markdown()
        try markdown.write(toFile: out + "/compare.md", atomically: true, encoding: .utf8)
        try report.csv().write(toFile: out + "/compare.csv", atomically: true, encoding: .utf8)
        try ComparePage.html(report, chartLibrary: ChartLibrary.source()).write(
            toFile: out + "/compare.html", atomically: true, encoding: .utf8)
        print(markdown)
        if !quiet {
            FileHandle.standardError.write(
                Data("wrote \(out)/compare.md, \(out)/compare.csv and \(out)/compare.html\n".utf8))
        }
    }

}

/// `octopus compare merge`: the shards' runs as one compare's reports.
extension Compare {
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge",
            abstract: "Join the --out directories of `compare --shard 1/N … N/N` into one compare's reports.",
            discussion:
                "Each directory holds a shard's compare-runs.jsonl. The reports are those an unsharded compare of the same command writes, byte for byte."
        )

        @Argument(help: "The shards' --out directories.")
        var directories: [String]

        @Option(help: "Output directory for compare.md, compare.csv and compare.html.")
        var out = "runs/compare"

        @Flag(help: "Print only the report.")
        var quiet = false

        @Flag(help: "Replace the reports of a compare already in --out instead of refusing.")
        var overwrite = false

        func run() throws {
            try Matrix.checkReports(in: out, overwrite: overwrite)
            do {
                let (header, runs) = try CompareJournal.merge(directories)
                let matrix = header.matrix
                let ordered = try CompareRunner.canonical(runs, matrix: matrix)
                try Matrix.writeReports(
                    CompareReport(matrix: matrix, runs: ordered, command: header.command, seeds: header.seeds), to: out,
                    quiet: quiet)
            } catch {
                exitReporting(error)
            }
        }
    }

}

extension Matrix {
    func parseMatrix() throws -> CompareMatrix {
        let sizeList = try sizes.split(separator: ",").map { text -> CompareMatrix.Size in
            guard let size = CompareMatrix.Size.parse(String(text)) else {
                throw ValidationError("--sizes: '\(text)' is not RxC with 1 to 64 rows and columns (e.g. 4x4)")
            }
            return size
        }
        let loadList = try loads.split(separator: ",").map { text -> Double in
            // Bounded both ways: a load scales every arrival interval down and every request count
            // up, and far outside this range either overflowed (SIGILL).
            guard let value = Double(text), CompareMatrix.loadRange.contains(value) else {
                throw ValidationError(
                    "--loads: '\(text)' is not a load from \(CompareMatrix.loadRange.lowerBound) to \(Int(CompareMatrix.loadRange.upperBound))"
                )
            }
            return value
        }
        let workloadList = workloads.split(separator: ",").map(String.init)
        guard !sizeList.isEmpty else { throw ValidationError("--sizes: give at least one size") }
        guard !loadList.isEmpty else { throw ValidationError("--loads: give at least one load") }
        guard !workloadList.isEmpty else { throw ValidationError("--workloads: give at least one workload") }
        guard referenceClusters >= 1 else { throw ValidationError("--reference-clusters must be at least 1") }
        guard (1...100).contains(seeds) else { throw ValidationError("--seeds: \(seeds) is not between 1 and 100") }
        guard let policy = AdmissionConfig.Policy(rawValue: admission) else {
            let allowed = AdmissionConfig.Policy.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("--admission: '\(admission)' is not one of: \(allowed)")
        }
        var parameters: [String: String] = [:]
        for pair in (schedulerParameters ?? "").split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let known = Set(SchedulerRegistry.standard.definitions.flatMap { $0.parameters.map(\.name) })
            guard kv.count == 2, known.contains(kv[0]) else {
                throw ValidationError(
                    "--scheduler-parameters: '\(pair)' is not NAME=VALUE with a parameter of some scheduler (\(known.sorted().joined(separator: ", ")))"
                )
            }
            parameters[kv[0]] = kv[1]
        }
        // Every scheduler that takes these parameters must accept their values.
        for definition in SchedulerRegistry.standard.definitions {
            do {
                _ = try SchedulerRegistry.standard.scheduler(definition.name, defaults: parameters)
            } catch {
                throw ValidationError("--scheduler-parameters: \(error)")
            }
        }
        // Runs are recorded under the scheduler's normalised text form.
        let variantTexts = try variants.map { variant -> String in
            do {
                return try SchedulerRegistry.standard.scheduler(variant).description
            } catch {
                throw ValidationError("--variant: \(error)")
            }
        }
        return CompareMatrix(
            workloads: workloadList, sizes: sizeList, loads: loadList, referenceClusters: referenceClusters,
            replicates: seeds, admission: policy, variants: variantTexts, schedulerParameters: parameters)
    }

    /// The command as given, without --jobs, --out, --quiet, --shard and --resume (which do not
    /// change the results).
    func commandLine() -> String {
        var parts = ["octopus", "compare"]
        let given: [(String, String, String)] = [
            ("--wafer", wafer, "Configs/wafers/default.yaml"), ("--workflows", workflows, "Configs/workflows"),
            ("--workloads", workloads, CompareMatrix.defaultWorkloads.joined(separator: ",")),
            ("--workload-dir", workloadDir, "Configs/workloads"),
            ("--sizes", sizes, CompareMatrix.defaultSizes.map(\.description).joined(separator: ",")),
            ("--loads", loads, "1,4"),
            ("--reference-clusters", "\(referenceClusters)", "16"), ("--seeds", "\(seeds)", "1"),
            ("--admission", admission, "in_flight"),
        ]
        for (flag, value, standard) in given where value != standard { parts += [flag, value] }
        for variant in variants { parts += ["--variant", variant] }
        if let schedulerParameters { parts += ["--scheduler-parameters", schedulerParameters] }
        return parts.joined(separator: " ")
    }
}
