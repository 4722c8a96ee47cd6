import ArgumentParser
import Foundation
import Functional
import Runtime
import WaferModel

struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run one cluster of a wafer (normally started by `octopus run` or a launcher).",
        discussion: """
            Connects to the coordinator, registers as cluster --id, receives the wafer configuration, and \
            then executes the windows the coordinator grants; task flows to and from other clusters travel \
            with the grants and reports, so a cluster opens no socket of its own. Exits when the \
            coordinator stops the wafer or is lost. With --count N one process hosts N consecutive \
            clusters (each registers and runs as it would alone; results are the same).
            """)

    @Option(help: "The coordinator's cluster endpoint (its --listen).")
    var coordinator = "tcp://127.0.0.1:5570"

    @Option(help: "This cluster's id: 0 … clusters-1, row-major over the mesh.")
    var id: Int?

    @Flag(
        help:
            "Take the id from the launcher's environment: SLURM_PROCID (srun), OMPI_COMM_WORLD_RANK (Open MPI) or PMI_RANK (MPICH, Hydra)."
    )
    var rankFromEnv = false

    @Option(help: "Add this to the id (e.g. when several launches each start a range of clusters).")
    var idOffset = 0

    @Option(
        help:
            "Host this many clusters in this process: --id, --id + 1, … (under --rank-from-env, rank r hosts r × count + --id-offset onwards)."
    )
    var count = 1

    @Option(help: "CurveZMQ key directory (needed when the coordinator uses keys, and to reach it off loopback).")
    var keys: String?

    @Option(help: "The name this cluster's host is reported under in the summary (default: the host name).")
    var hostLabel: String?

    @Option(help: "Exit when this process is no longer our parent (used by `octopus run`).")
    var parentPid: Int32?

    @Option(help: "Seconds to wait for the coordinator's setup.")
    var setupTimeout: Double = 120

    @Option(
        help:
            "Run this process, all its threads, on this CPU only (`octopus run` gives each cluster process one; see its --no-pin-cpus)."
    )
    var cpu: Int?

    /// Environment variables HPC launchers give each process its rank in, in the order tried.
    static let rankVariables = ["SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK"]

    func validate() throws {
        if rankFromEnv && id != nil { throw ValidationError("give either --id N or --rank-from-env, not both") }
        if !rankFromEnv && id == nil { throw ValidationError("give --id N (or --rank-from-env under srun or mpirun)") }
        if let id, id < 0 { throw ValidationError("--id must be 0 or more") }
        guard idOffset >= 0 else { throw ValidationError("--id-offset must be 0 or more") }
        guard count >= 1 else { throw ValidationError("--count must be 1 or more") }
        // No wafer has more clusters than a 256 × 256 mesh: larger ids overflowed.
        let clusters = Limits.meshSide.upperBound * Limits.meshSide.upperBound
        guard count <= clusters, idOffset < clusters, (id ?? 0) <= clusters - count else {
            throw ValidationError("--id, --id-offset and --count must name clusters below \(clusters)")
        }
        try checkWait(setupTimeout, option: "--setup-timeout")
        if let cpu, cpu < 0 { throw ValidationError("--cpu must be 0 or more") }
    }

    /// The (first) cluster id: --id, or the launcher's rank × --count plus --id-offset.
    func clusterID(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
        if let id { return id }
        for variable in Self.rankVariables {
            guard let text = environment[variable] else { continue }
            let clusters = Limits.meshSide.upperBound * Limits.meshSide.upperBound
            guard let rank = Int(text), rank >= 0 else {
                throw ValidationError("--rank-from-env: \(variable)='\(text)' is not a rank (a whole number ≥ 0)")
            }
            guard rank < clusters, rank * count + idOffset <= clusters - count else {
                throw ValidationError(
                    "--rank-from-env: rank \(rank) × --count \(count) + --id-offset \(idOffset) names clusters beyond \(clusters)"
                )
            }
            return rank * count + idOffset
        }
        throw ValidationError(
            "--rank-from-env: none of \(Self.rankVariables.joined(separator: ", ")) is set (start this under srun or mpirun, or give --id)"
        )
    }

    func run() throws {
        let cluster = try clusterID()
        do {
            var options = ClusterProcess.Options(
                coordinator: coordinator, cluster: cluster, parentPID: parentPid, setupTimeout: setupTimeout)
            options.count = count
            options.functional = { try BLASExecutor() }
            options.keys = try keys.map { try WaferKeys.load(from: $0) }
            options.hostLabel = hostLabel
            options.cpu = cpu
            let process = try ClusterProcess(options: options)
            try process.run()
        } catch {
            let hosted = count > 1 ? "clusters \(cluster)–\(cluster + count - 1)" : "cluster \(cluster)"
            FileHandle.standardError.write(Data("octopus \(hosted): error: \(error)\n".utf8))
            Foundation.exit(error is WaferKeys.Failure || error is Endpoints.Invalid ? 2 : 1)
        }
    }
}
