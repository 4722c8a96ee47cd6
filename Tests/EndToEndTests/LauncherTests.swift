import Emulation
import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Clusters started by HPC launchers: `scripts/slurm/wafer.sbatch` under a faked Slurm, ranks taken
/// from Slurm's, Open MPI's and MPICH's environment variables, and the `octopus keys` command.
final class LauncherTests: XCTestCase {
    let smallWafer = ["--wafer", "Configs/wafers/small-2x2.yaml", "--workload", "Configs/workloads/small.yaml"]
    static let rankVariables = ["SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_NTASKS", "SLURM_JOB_ID"]

    /// This process's environment without any launcher's rank variables, plus `extra`.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for variable in Self.rankVariables { environment[variable] = nil }
        return environment.merging(extra) { _, new in new }
    }

    func oracle(in directory: String) throws -> (RunSummary, Data) {
        let out = directory + "/oracle"
        let result = try octopus(
            ["run", "--single-process", "--quiet", "--out", out] + smallWafer, in: directory, name: "oracle")
        XCTAssertEqual(result.status, 0, result.stderr)
        return try summaryAndTrace(out)
    }

    func summaryAndTrace(_ out: String) throws -> (RunSummary, Data) {
        (
            try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))),
            try Data(contentsOf: URL(fileURLWithPath: out + "/trace.json"))
        )
    }

    func testTheSlurmBatchScriptIsValidBash() throws {
        let directory = try makeTemporaryDirectory("bash-n")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check = try Launched(
            ["-n", "scripts/slurm/wafer.sbatch"], in: directory, name: "bash-n", executable: "/bin/bash")
        XCTAssertEqual(check.wait(seconds: 30), 0, check.stderr)
    }

    /// The batch script under a fake `srun` that starts `--ntasks` copies of its command, each with
    /// its own SLURM_PROCID, as Slurm does: the wafer it starts equals the oracle, its keys are made
    /// on first use, and nothing is left running.
    func testTheSlurmBatchScriptRunsAWaferEqualToTheOracle() throws {
        let directory = try makeTemporaryDirectory("slurm")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bin = directory + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let fakeSrun = """
            #!/bin/bash
            # A stand-in for Slurm's srun: --ntasks=N COMMAND… runs N copies with SLURM_PROCID 0…N-1.
            tasks=1
            while [[ $1 == --* ]]; do
              case $1 in --ntasks=*) tasks=${1#--ntasks=} ;; esac
              shift
            done
            pids=()
            for ((rank = 0; rank < tasks; rank++)); do SLURM_PROCID=$rank "$@" & pids+=($!); done
            trap 'kill -TERM "${pids[@]}" 2>/dev/null' TERM INT
            status=0
            for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
            exit $status

            """
        try fakeSrun.write(toFile: bin + "/srun", atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(bin + "/srun", 0o755), 0)

        let (oracleSummary, oracleTrace) = try oracle(in: directory)
        let port = freePort()
        let out = directory + "/out"
        let keys = directory + "/keys"
        let script = try Launched(
            ["scripts/slurm/wafer.sbatch", "Configs/wafers/small-2x2.yaml", "Configs/workloads/small.yaml"],
            in: directory, name: "sbatch", executable: "/bin/bash",
            environment: environment([
                "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                "SLURM_NTASKS": "4", "SLURM_JOB_ID": "4242", "OCTOPUS": octopusBinary, "OCTOPUS_KEYS": keys,
                "OCTOPUS_PORT": "\(port)", "OCTOPUS_HEAD_ADDRESS": "127.0.0.1", "OCTOPUS_OUT": out,
            ]))
        XCTAssertEqual(script.wait(seconds: 180), 0, script.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: keys + "/member.secret"), "the script made no keys")
        let (summary, trace) = try summaryAndTrace(out)
        XCTAssertEqual(
            summary.results, oracleSummary.results, "the Slurm-launched wafer's results differ from the oracle")
        XCTAssertEqual(trace, oracleTrace, "the Slurm-launched wafer's trace differs from the oracle's")
        XCTAssertTrue(
            eventually(5) { processes(matching: [octopusBinary, "tcp://127.0.0.1:\(port)"]).isEmpty },
            "processes of the Slurm wafer are left running")
    }

    /// Ranks from Open MPI's and MPICH's variables, with --id-offset for a second launch, start the
    /// four clusters of a hand-started coordinator; the wafer equals the oracle.
    func testRanksFromMPILaunchersEnvironmentsStartAWafer() throws {
        let directory = try makeTemporaryDirectory("mpi-ranks")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (oracleSummary, oracleTrace) = try oracle(in: directory)
        let listen = "tcp://127.0.0.1:\(freePort())"
        let out = directory + "/out"
        let coordinator = try Launched(
            [
                "coordinator", "--listen", listen, "--control", "tcp://127.0.0.1:\(freePort())", "--exit-when-idle",
                "--out", out,
            ]
                + smallWafer, in: directory, name: "coordinator")
        // Two "mpirun -n 2" launches: Open MPI's ranks 0, 1 → clusters 0, 1; MPICH's ranks 0, 1 with --id-offset 2 → 2, 3.
        var clusters: [Launched] = []
        for rank in 0..<2 {
            clusters.append(
                try Launched(
                    ["cluster", "--coordinator", listen, "--rank-from-env"], in: directory, name: "ompi\(rank)",
                    environment: environment(["OMPI_COMM_WORLD_RANK": "\(rank)"])))
            clusters.append(
                try Launched(
                    ["cluster", "--coordinator", listen, "--rank-from-env", "--id-offset", "2"], in: directory,
                    name: "pmi\(rank)", environment: environment(["PMI_RANK": "\(rank)"])))
        }
        XCTAssertEqual(coordinator.wait(seconds: 120), 0, coordinator.stderr)
        for cluster in clusters { XCTAssertEqual(cluster.wait(seconds: 30), 0, cluster.stderr) }
        let (summary, trace) = try summaryAndTrace(out)
        XCTAssertEqual(summary.results, oracleSummary.results)
        XCTAssertEqual(trace, oracleTrace)
    }

    /// A missing or malformed rank is a usage error naming the variables, before any connection.
    func testAMissingOrBadRankIsAClearUsageError() throws {
        let directory = try makeTemporaryDirectory("rank-errors")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cases: [([String], [String: String], String)] = [
            (["--rank-from-env"], [:], "none of SLURM_PROCID, OMPI_COMM_WORLD_RANK, PMI_RANK is set"),
            (["--rank-from-env"], ["SLURM_PROCID": "first"], "SLURM_PROCID='first' is not a rank"),
            (["--rank-from-env"], ["PMI_RANK": "-3"], "PMI_RANK='-3' is not a rank"),
            (
                ["--rank-from-env", "--id", "1"], ["SLURM_PROCID": "1"],
                "give either --id N or --rank-from-env, not both"
            ),
            ([], [:], "give --id N (or --rank-from-env under srun or mpirun)"),
            // Ids, ranks and waits whose arithmetic overflowed or that waited forever (SIGILL, or a hang).
            (["--id", "\(Int.max)", "--count", "2"], [:], "must name clusters below 65536"),
            (["--id", "65535", "--count", "2"], [:], "must name clusters below 65536"),
            (["--rank-from-env", "--count", "2"], ["SLURM_PROCID": "\(Int.max)"], "names clusters beyond 65536"),
            (["--id", "0", "--setup-timeout", "nan"], [:], "--setup-timeout must be more than 0 to 1000000 seconds"),
            (["--id", "0", "--setup-timeout", "1e300"], [:], "--setup-timeout must be more than 0 to 1000000 seconds"),
        ]
        for (index, (arguments, variables, message)) in cases.enumerated() {
            let cluster = try Launched(
                ["cluster", "--coordinator", "tcp://127.0.0.1:\(freePort())", "--setup-timeout", "5"] + arguments,
                in: directory, name: "bad\(index)", environment: environment(variables))
            XCTAssertEqual(cluster.wait(seconds: 30), 64, "\(arguments) \(variables): \(cluster.stderr)")
            XCTAssertTrue(cluster.stderr.contains(message), "\(arguments) \(variables): \(cluster.stderr)")
        }
    }

    /// A wait of not-a-number or an infinity (or beyond 10^6 s) is a usage error naming the option:
    /// `ctl --timeout nan` crashed (SIGILL), a coordinator's or cluster's waited forever. So is a
    /// `ctl inject` arrival number that JSON cannot carry.
    func testWaitsOutOfRangeAreUsageErrors() throws {
        let directory = try makeTemporaryDirectory("waits")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let control = "tcp://127.0.0.1:\(freePort())"
        let wafer = ["--wafer", "Configs/wafers/small-2x2.yaml", "--control", control]
        for (arguments, option) in [
            (["ctl", "status", "--control", control, "--timeout", "nan"], "--timeout"),
            (["ctl", "drain", "--control", control, "--timeout", "1e300"], "--timeout"),
            (["coordinator"] + wafer + ["--registration-timeout", "nan"], "--registration-timeout"),
            (["coordinator"] + wafer + ["--registration-timeout", "0"], "--registration-timeout"),
            (["coordinator"] + wafer + ["--failed-timeout", "inf"], "--failed-timeout"),
        ] {
            let result = try octopus(arguments, in: directory, name: "wait", seconds: 30)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("\(option) must be"), "\(arguments): \(result.stderr)")
        }
        // JSON has no infinity or not-a-number: such arrival numbers printed Foundation's error
        // object (exit 1) instead of naming the option.
        for (arguments, message) in [
            (
                ["--arrival", "poisson", "--mean-interval-cycles", "inf"],
                "--mean-interval-cycles must be a finite number"
            ),
            (
                ["--arrival", "markov", "--states", "2000:1e6,nan:1"],
                "--states: expected INTERVAL:DWELL pairs of finite"
            ),
        ] {
            let result = try octopus(
                ["ctl", "inject", "--control", control, "--workflow", "recsys"] + arguments, in: directory,
                name: "ctl", seconds: 30)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("NSCocoaErrorDomain"), "\(arguments): \(result.stderr)")
        }
        // A fractional wait is reported as given ("within 0 s" before).
        let unanswered = try octopus(
            ["ctl", "status", "--control", control, "--timeout", "0.2"], in: directory, name: "fraction", seconds: 30)
        XCTAssertNotEqual(unanswered.status, 0, unanswered.stderr)
        XCTAssertTrue(unanswered.stderr.contains("within 0.2 s"), unanswered.stderr)
    }

    /// `octopus keys generate` makes a private directory and refuses, with exit code 2, to overwrite it.
    func testKeysGenerateRefusesToOverwriteAWafersKeys() throws {
        let directory = try makeTemporaryDirectory("keys-cli")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = directory + "/keys"
        let first = try octopus(["keys", "generate", keys], in: directory, name: "first")
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("wrote the wafer's keys to"), first.stdout)
        var info = stat()
        XCTAssertEqual(stat(keys, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
        XCTAssertEqual(stat(keys + "/member.secret", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        let before = try String(contentsOfFile: keys + "/coordinator.secret", encoding: .utf8)
        let second = try octopus(["keys", "generate", keys], in: directory, name: "second")
        XCTAssertEqual(second.status, 2, second.stderr)
        XCTAssertTrue(second.stderr.contains("refusing to overwrite"), second.stderr)
        XCTAssertEqual(try String(contentsOfFile: keys + "/coordinator.secret", encoding: .utf8), before)
        // A directory that cannot be made (its parent is a file) is an error naming it, not
        // Foundation's error object.
        try "".write(toFile: directory + "/file", atomically: true, encoding: .utf8)
        let third = try octopus(["keys", "generate", directory + "/file/keys"], in: directory, name: "third")
        XCTAssertEqual(third.status, 2, third.stderr)
        XCTAssertTrue(third.stderr.contains("cannot create \(directory)/file/keys:"), third.stderr)
        XCTAssertFalse(third.stderr.contains("NSCocoaErrorDomain"), third.stderr)
    }
}
