import ArgumentParser
import Foundation
import Functional
import Runtime

struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one cluster of a wafer (normally started by `octopus run` or a launcher).",
        discussion: """
            Connects to the coordinator, registers as cluster --id, receives the wafer configuration, and
            then executes the windows the coordinator grants; task flows to and from other clusters travel
            with the grants and reports, so a cluster opens no socket of its own. Exits when the
            coordinator stops the wafer or is lost.
            """)

    @Option(help: "The coordinator's cluster endpoint (its --listen).")
    var coordinator = "tcp://127.0.0.1:5570"

    @Option(help: "This cluster's id: 0 … clusters-1, row-major over the mesh.")
    var id: Int

    @Option(help: "Exit when this process is no longer our parent (used by `octopus run`).")
    var parentPid: Int32?

    @Option(help: "Seconds to wait for the coordinator's setup.")
    var setupTimeout: Double = 120

    func validate() throws {
        guard id >= 0 else { throw ValidationError("--id must be 0 or more") }
    }

    func run() throws {
        do {
            var options = ClusterProcess.Options(
                coordinator: coordinator, cluster: id, parentPID: parentPid,
                setupTimeout: setupTimeout)
            options.functional = { BLASExecutor() }
            let process = try ClusterProcess(options: options)
            try process.run()
        } catch {
            FileHandle.standardError.write(Data("octopus cluster \(id): error: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }
}
