import ArgumentParser
import Emulation
import Foundation
import Runtime
import WaferModel

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Launch a whole wafer on this machine, run a workload to completion, and write trace and summary.",
        discussion: """
            Starts the coordinator in this process and one child process per cluster (or per \
            --clusters-per-process clusters), connected over \
            ZeroMQ (ipc:// by default). Injects the workload, runs until every request has finished, \
            prints a summary table and writes runs/<id>/trace.json (open it in ui.perfetto.dev) and \
            runs/<id>/summary.json. Ctrl-C, or the death of any cluster process, stops every process. \
            --single-process runs the same state machines in one event loop without sockets: the \
            oracle whose results the multi-process run reproduces exactly.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Workload to inject (YAML).")
    var workload = "Configs/workloads/default.yaml"

    @Option(help: "Output directory (default: runs/<UTC time>-<pid>). One that already holds a run is refused.")
    var out: String?

    @Flag(help: "Replace the run already in --out (its summary, trace, tables and report) instead of refusing.")
    var overwrite = false

    @Option(help: "Transport between processes: ipc or tcp (loopback).")
    var transport: String = "ipc"

    @Option(
        help:
            "Control socket endpoint for `octopus ctl` while the run is going (default: a private ipc:// endpoint, printed at start)."
    )
    var control: String?

    @Flag(help: "Run every cluster in this process, without sockets (the deterministic oracle).")
    var singleProcess = false

    @Option(
        help: ArgumentHelp(
            "Clusters hosted by each cluster process (consecutive ids; with --hosts never two hosts in one process). 1 (the default) is one process per cluster; more means fewer processes on few cores; auto spreads the clusters over one process per core of this machine but one, pinned to CPUs (with --no-pin-cpus: at most 128 clusters each; with --hosts: one process per run of consecutive clusters on a host). Results and traces are the same.",
            valueName: "N|auto"))
    var clustersPerProcess = "1"

    @Flag(
        name: .customLong("pin-cpus"), inversion: .prefixedNo,
        help:
            "Pin every process to one CPU: the coordinator and the first cluster process share the CPU this command starts on, the other cluster processes take the allowed CPUs in turn. By default only when the cluster processes are no more than the CPUs (e.g. --clusters-per-process auto): a message between processes costs much less on one CPU than across two. --pin-cpus pins however many there are; --no-pin-cpus never (e.g. beside other jobs that need the same CPUs). Not with --single-process or --hosts. Results and traces are the same."
    )
    var pinCPUs: Bool?

    @Option(
        help: ArgumentHelp(
            "Run the clusters on these hosts: round-robin (hostA,hostB) or by slots (hostA:4,hostB:12), "
                + "started through --launch. Needs --keys and --listen.", valueName: "hosts"))
    var hosts: String?

    @Option(
        help: ArgumentHelp(
            "How a cluster is started on its host: a shell template with {host}, {command} (the cluster's command "
                + "line) and {id}; e.g. 'ssh {host} {command}' (default) or 'ip netns exec {host} {command}'.",
            valueName: "template"))
    var launch: String?

    @Option(
        help: "With --hosts: the coordinator's cluster endpoint, tcp://ADDR:PORT on an address every host can reach.")
    var listen: String?

    @Option(help: "With --hosts: the path of the octopus executable on the other hosts (default: this one's).")
    var remoteOctopus: String?

    @Option(
        help:
            "CurveZMQ key directory (`octopus keys generate DIR`; the same on every host): authenticate and encrypt every connection."
    )
    var keys: String?

    @Option(
        help:
            "Tie virtual time to wall time: RATIO virtual microseconds per wall microsecond (1 = real time), for live demos and interactive injection. The summary reports the ratio reached."
    )
    var pace: Double?

    @Option(
        help:
            "Trace format: json (trace.json, Chrome Trace Event; the default) or perfetto (trace.pftrace, Perfetto's protobuf, several times smaller: better for long runs)."
    )
    var traceFormat = "json"

    @Flag(help: "Also write report.html (plots; see `octopus report`) into the output directory.")
    var report = false

    @Flag(help: "Print only the summary table.")
    var quiet = false

    /// --clusters-per-process for a wafer of `clusters`: a number, or `auto` (one process per
    /// core here but the coordinator's; with --hosts, one per run of consecutive clusters on a host).
    private func clustersPerProcess(_ clusters: Int) throws -> Int {
        if clustersPerProcess == "auto" {
            guard hosts == nil else { return max(clusters, 1) }
            // One core is the coordinator's; its rounds alternate with the clusters' runs. Left
            // to the kernel, past 128 clusters a process's share of a round outweighs a message
            // more (measured on 2 cores: a 16×16 wafer in two processes 1.10× faster than in
            // one); pinned (as these processes are unless --no-pin-cpus), one process of 256
            // beside the coordinator was 1.23× faster than two.
            let cores = ProcessInfo.processInfo.activeProcessorCount
            let processes = max(cores - 1, pinCPUs == false ? (clusters + 127) / 128 : 1, 1)
            return max((clusters + processes - 1) / processes, 1)
        }
        guard let count = Int(clustersPerProcess), count >= 1 else {
            throw ValidationError(
                "--clusters-per-process must be a whole number ≥ 1 or auto, not '\(clustersPerProcess)'")
        }
        return count
    }

    /// The coordinator and the cluster processes `options` start.
    private func processes(_ config: WaferConfig, _ options: LocalWafer.Options) -> Int {
        1
            + ClusterGroups.partition(
                clusters: config.clusterCount, perProcess: options.clustersPerProcess,
                host: { options.placement?.hosts[$0] ?? "" }
            ).count
    }

    func run() throws {
        do {
            let (config, library) = try model.load(workload: workload)
            let injections = try WorkloadLoader.load(path: workload, library: library)
            guard let chosen = LocalWafer.Transport(rawValue: transport) else {
                throw ValidationError("--transport must be ipc or tcp, not '\(transport)'")
            }
            let directory = out ?? defaultRunDirectory()
            var options = LocalWafer.Options(
                config: config, library: library, injections: injections, outputDirectory: directory)
            options.transport = chosen
            options.commandLine = CommandLine.arguments
            options.inputs = InputFileLog.shared
            options.control = control
            options.scheduler = try model.schedulerSpec()
            options.singleProcess = singleProcess
            options.clustersPerProcess = try clustersPerProcess(config.clusterCount)
            options.cpuPinning = pinCPUs.map { $0 ? .always : .never } ?? .automatic
            if singleProcess && options.clustersPerProcess != 1 {
                throw ValidationError("--clusters-per-process and --single-process exclude each other")
            }
            // Nothing to pin in one process, nor on other hosts: asked for, it would be ignored.
            if pinCPUs == true && (singleProcess || hosts != nil) {
                throw ValidationError(
                    "--pin-cpus is for cluster processes on this machine (not with \(singleProcess ? "--single-process" : "--hosts"))"
                )
            }
            options.functional = model.kernels
            options.keys = try keys.map { try WaferKeys.load(from: $0) }
            if let hosts {
                guard !singleProcess else { throw ValidationError("--hosts and --single-process exclude each other") }
                options.placement = try HostPlacement(parsing: hosts, clusters: config.clusterCount)
                options.launch = launch ?? "ssh {host} {command}"
                options.listen = listen
                options.remoteExecutable = remoteOctopus
                options.transport = .tcp
            } else if listen != nil {
                throw ValidationError("--listen is for --hosts (a local run picks its own endpoint)")
            } else if launch != nil || remoteOctopus != nil {
                // Without --hosts nothing is launched remotely: the option would be silently ignored.
                throw ValidationError(
                    "--\(launch != nil ? "launch" : "remote-octopus") is for --hosts (a local run starts its clusters itself)"
                )
            }
            if quiet { options.log = { _ in } }
            options.progress = ProgressLine.onStandardError(quiet: quiet)
            guard let format = TraceFormat(rawValue: traceFormat) else {
                throw ValidationError("--trace-format must be json or perfetto, not '\(traceFormat)'")
            }
            options.traceFormat = format
            if let pace {
                try checkPace(pace)
                options.pace = pace
            }
            try options.checkHosts()
            try checkOutputDirectory(directory, overwrite: overwrite)
            // Nothing of the replaced run may stay beside this one (an old trace format, a report).
            if overwrite { try RunFiles.removeRun(in: directory) }
            try RunFiles.prepare(outputDirectory: directory)
            let total = injections.reduce(0) { $0 + $1.count }
            if !quiet {
                let mode =
                    singleProcess
                    ? "in one process"
                    : "as \(processes(config, options)) processes over \(options.transport.rawValue)://"
                print(
                    "Running wafer \(config.name) (\(config.rows)×\(config.columns) clusters) \(mode) in \(model.functional ? "functional" : "timing") mode; \(total) requests from \(workload)"
                )
            }
            let summary = try LocalWafer.run(options)
            print(SummaryRenderer.table(summary))
            print("\nwrote \(directory)/\(options.traceFormat.fileName) and \(directory)/summary.json")
            if report { print("wrote \(try ReportWriter.write(runs: [directory], to: nil))") }
        } catch let error as ValidationError {
            throw error
        } catch {
            exitReporting(error)
        }
    }
}
