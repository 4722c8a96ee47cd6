import ArgumentParser
import Emulation
import Foundation
import Runtime
import WaferModel

struct Coordinator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator of a wafer whose clusters are started separately.",
        discussion: """
            Binds --listen for clusters and --control for `octopus ctl`, waits until every cluster of \
            the wafer has registered (start them with `octopus cluster --coordinator <listen> --id N`), \
            then serves: inject work, query status, drain, write the trace, stop. The wafer runs until a \
            `stop` request (or Ctrl-C), then writes trace.json and summary.json to --out.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Endpoint clusters connect to.")
    var listen = "tcp://127.0.0.1:5570"

    @Option(help: "Endpoint of the control socket.")
    var control = "tcp://127.0.0.1:5571"

    @Option(help: "Workload to inject once all clusters have registered (optional).")
    var workload: String?

    @Option(help: "Output directory (default: runs/<UTC time>-<pid>). One that already holds a run is refused.")
    var out: String?

    @Flag(help: "Replace the run already in --out (its summary, trace, tables and report) instead of refusing.")
    var overwrite = false

    @Option(
        help: "Seconds to wait for all clusters to register, and then again for all to be ready (setup decoded).")
    var registrationTimeout: Double = 120

    @Option(
        help:
            "CurveZMQ key directory (`octopus keys generate DIR`): authenticate and encrypt both sockets, and allow non-loopback --listen and --control addresses."
    )
    var keys: String?

    @Option(
        help:
            "The directory `inject` messages may read replay files from (paths relative to it); without it the control socket reads no files."
    )
    var dataDir: String?

    @Option(
        help:
            "After a failure of the running wafer (a lost cluster, a protocol error), keep answering `ctl status` and `ctl stop` for this many seconds before exiting (0: exit at once; ignored with --exit-when-idle)."
    )
    var failedTimeout: Double = 600

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

    @Flag(help: "Stop (writing trace and summary) as soon as the wafer is idle, instead of serving until `ctl stop`.")
    var exitWhenIdle = false

    func validate() throws {
        guard TraceFormat(rawValue: traceFormat) != nil else {
            throw ValidationError("--trace-format must be json or perfetto, not '\(traceFormat)'")
        }
        if let pace { try checkPace(pace) }
        if let out { try checkOutputDirectory(out, overwrite: overwrite) }
        try checkWait(failedTimeout, option: "--failed-timeout", zero: true)
        try checkWait(registrationTimeout, option: "--registration-timeout")
        if let dataDir {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dataDir, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw ValidationError("--data-dir: '\(dataDir)' is not a directory")
            }
        }
    }

    func run() throws {
        do {
            let (config, library) = try model.load(workload: workload)
            let injections = try workload.map { try WorkloadLoader.load(path: $0, library: library) } ?? []
            var options = CoordinatorServer.Options(
                config: config, library: library, listen: listen, control: control,
                outputDirectory: out ?? defaultRunDirectory())
            options.scheduler = try model.schedulerSpec()
            options.commandLine = CommandLine.arguments
            options.inputs = InputFileLog.shared
            options.functional = model.kernels
            options.registrationTimeout = registrationTimeout
            options.keys = try keys.map { try WaferKeys.load(from: $0) }
            options.exitWhenIdle = exitWhenIdle
            options.dataDirectory = dataDir
            options.pace = pace
            options.traceFormat = TraceFormat(rawValue: traceFormat) ?? .json
            // Nothing of the replaced run may stay beside this one (an old trace format, a report).
            if overwrite { try RunFiles.removeRun(in: options.outputDirectory) }
            options.serveAfterFailure = exitWhenIdle || failedTimeout <= 0 ? nil : failedTimeout
            let wake = try WakeSignal()
            wake.catchTerminationSignals()
            let server = try CoordinatorServer(options: options, wake: wake)
            let summary = try server.run(initial: injections)
            print(SummaryRenderer.table(summary))
            print(
                "\nwrote \(options.outputDirectory)/\(options.traceFormat.fileName) and \(options.outputDirectory)/summary.json"
            )
        } catch {
            exitReporting(error)
        }
    }
}
