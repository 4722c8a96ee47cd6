import ArgumentParser
import Emulation
import Experiments
import Foundation
import Functional
import Reports
import Runtime
import Scheduling
import WaferModel

/// Where the wafer, its workflows and the scheduling policies come from.
struct ModelOptions: ParsableArguments {
    @Option(help: "Wafer configuration (YAML).")
    var wafer = "Configs/wafers/default.yaml"

    @Option(
        help: ArgumentHelp(
            "Directory of workflow files (YAML); every file in it is loaded. Default: the directory the workload file "
                + "names in its `workflows:` field, else Configs/workflows.",
            valueName: "dir"))
    var workflows: String?

    @Option(
        help: ArgumentHelp(
            "The scheduler: \(SchedulerRegistry.standard.names.joined(separator: ", ")). Some take parameters, e.g. "
                + "reactive:threshold=1000000,steal=2. `octopus schedulers` lists them with their parameters; see docs/scheduling.md.",
            valueName: "name"))
    var scheduler = "octopus"

    @Flag(
        help: ArgumentHelp(
            "Functional mode: requests carry real tensors (made by each workflow's generator), task blocks with a `function:` "
                + "compute on them (GEMMs on OpenBLAS) and control blocks with a `when:` decide on the data. Timing still comes "
                + "from the PE-array model. Default: timing mode."))
    var functional = false

    /// The parsed `--scheduler`.
    func schedulerSpec() throws -> Scheduler {
        do { return try SchedulerRegistry.standard.scheduler(scheduler) } catch {
            throw ValidationError("--scheduler: \(error)")
        }
    }

    /// The kernels of functional mode when `--functional` is given (OpenBLAS), else nil.
    var kernels: FunctionalKernels? {
        guard functional else { return nil }
        return { try BLASExecutor() }
    }

    @Option(
        help: ArgumentHelp(
            "Synchronisation, overriding the wafer file's `sync`: exact (speculative windows across processes), "
                + "conservative (exact, no speculation) or quantum:W (windows of at least W cycles; messages landing "
                + "inside one are delivered at its end — faster, with the timing error reported; see docs/synchronisation.md).",
            valueName: "mode"))
    var sync: String?

    /// The `--sync` setting applied to `config`.
    func applySync(to config: inout WaferConfig) throws {
        guard let sync else { return }
        switch sync {
        case "exact":
            config.sync.mode = .exact
            config.sync.speculation = true
        case "conservative":
            config.sync.mode = .exact
            config.sync.speculation = false
        default:
            // W within the limit a wafer file's `window_cycles` has (``Limits/largestDuration``):
            // a longer window overflowed the window arithmetic.
            guard sync.hasPrefix("quantum:"),
                let window = Cycle(sync.dropFirst(8).replacingOccurrences(of: "_", with: "")),
                (1...Limits.largestDuration).contains(window)
            else {
                throw ValidationError(
                    "--sync must be exact, conservative or quantum:W with 1 ≤ W ≤ \(Limits.largestDuration) cycles, not '\(sync)'"
                )
            }
            config.sync.mode = .quantum
            config.sync.window = window
        }
    }

    /// The wafer and the workflow library: `--workflows`, else the one `workload` names, else
    /// Configs/workflows.
    func load(workload: String? = nil) throws -> (WaferConfig, WorkflowLibrary) {
        var config = try WaferConfigLoader.load(path: wafer)
        try applySync(to: &config)
        let directory = try workflows ?? workload.flatMap(WorkloadLoader.workflowDirectory) ?? "Configs/workflows"
        return (config, try WorkflowLibrary.load(directory: directory))
    }
}

/// A fresh output directory name under runs/.
func defaultRunDirectory() -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    return "runs/\(formatter.string(from: Date()))-\(ProcessInfo.processInfo.processIdentifier)"
}

/// Refuses an output directory that is a file or already holds a run (unless `overwrite`), so
/// that a run never silently replaces another's results.
func checkOutputDirectory(_ directory: String, overwrite: Bool) throws {
    if let problem = RunFiles.problem(outputDirectory: directory, overwrite: overwrite) {
        throw ValidationError(problem)
    }
}

/// Prints `error` for a user and exits with the code that fits it: 2 for bad input, 130 for an
/// interrupt, 1 otherwise.
func exitReporting(_ error: Error) -> Never {
    FileHandle.standardError.write(Data("octopus: error: \(describe(error))\n".utf8))
    switch error {
    case is ConfigError, is Endpoints.Invalid, is RunData.Failure, is CoordinatorEngine.InjectionError,
        is CompareJournal.Problem, is CompareError,
        is WaferKeys.Failure, is RunFiles.Unusable,
        is HostPlacement.Invalid, is LaunchTemplate.Invalid:
        Foundation.exit(2)
    case CoordinatorServer.Abort.interrupted: Foundation.exit(130)
    default: Foundation.exit(1)
    }
}

/// `error` as a user reads it: a file-system error of Foundation's as the file and the system's
/// reason ("cannot write 'x/report.html': No such file or directory") instead of its dump.
func describe(_ error: Error) -> String {
    let nsError = error as NSError
    guard nsError.domain == NSCocoaErrorDomain, let path = nsError.userInfo[NSFilePathErrorKey] as? String else {
        return "\(error)"
    }
    let reason: String
    if let underlying = (nsError.userInfo[NSUnderlyingErrorKey] as? Error).map({ $0 as NSError }),
        underlying.domain == NSPOSIXErrorDomain
    {
        reason = String(cString: strerror(Int32(underlying.code)))
    } else {
        switch CocoaError.Code(rawValue: nsError.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: reason = "No such file or directory"
        case .fileWriteNoPermission, .fileReadNoPermission: reason = "Permission denied"
        case .fileWriteOutOfSpace: reason = "No space left on device"
        default: reason = "error \(nsError.code)"
        }
    }
    // Cocoa's read errors are 256–511, write errors 512–1023.
    let verb =
        (256..<512).contains(nsError.code)
        ? "cannot read" : (512..<1024).contains(nsError.code) ? "cannot write" : "cannot use"
    return "\(verb) '\(path)': \(reason)"
}

/// Refuses a seconds option outside ``Limits/waitSeconds`` (or zero, unless `zero` is allowed),
/// naming it: a wait of not-a-number or of an infinity would hang or overflow.
func checkWait(_ seconds: Double, option: String, zero: Bool = false) throws {
    guard Limits.waitSeconds.contains(seconds), zero || seconds > 0 else {
        throw ValidationError(
            "\(option) must be \(zero ? "0" : "more than 0") to \(Int(Limits.waitSeconds.upperBound)) seconds, not \(seconds)"
        )
    }
}

/// The slowest `--pace` (virtual microseconds per wall microsecond): a million times slower than
/// real time. Slower still, a run would not visibly progress at all (a pace of 1e-300 waited
/// forever).
let slowestPace = 1e-6

/// Refuses a `--pace` that is not a finite ratio from ``slowestPace``, naming the option.
func checkPace(_ pace: Double) throws {
    guard pace >= slowestPace, pace.isFinite else {
        throw ValidationError(
            "--pace must be a finite ratio of at least 0.000001 (a million times slower than real time), not \(pace)")
    }
}
