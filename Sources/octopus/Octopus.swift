import ArgumentParser
import CProcessControl
import Foundation
import Runtime

@main
struct Octopus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "octopus",
        abstract:
            "A wafer-scale spatial-architecture emulator: one process per cluster, ZeroMQ between them, virtual time.",
        discussion: """
            Start here: `octopus run` runs the default 4×4 wafer and workload to completion. By hand: \
            `octopus coordinator`, then one `octopus cluster` per cluster, driven with `octopus ctl`.

            Configs live in Configs/ (wafers/, workflows/, workloads/); see README.md and docs/.
            """,
        version: BuildInfo.description,
        subcommands: [
            Run.self, Report.self, Compare.self, Coordinator.self, Cluster.self, Ctl.self, Schedulers.self, Keys.self,
            Workflows.self, TransportCostCommand.self, OptimisticExperimentCommand.self,
            Graph.self, PEA.self, Validate.self,
        ],
        defaultSubcommand: nil)

    static func main() {
        // Measured: 5-6% more task blocks per second in one process (fewer page faults).
        octopus_tune_allocator()
        let command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            var running = command
            try running.run()
        } catch let error as ValidationError {
            // A bad value a command finds is reported with that command's usage (`octopus run
            // [--wafer <wafer>] …`), not the root's (`octopus <subcommand>`).
            let name = commandPath(to: type(of: command)).joined(separator: " ")
            FileHandle.standardError.write(
                Data(
                    """
                    Error: \(message(for: error))
                    Usage: \(usageString(for: type(of: command)))
                      See '\(name) --help' for more information.

                    """.utf8))
            Foundation.exit(exitCode(for: error).rawValue)
        } catch {
            exit(withError: error)
        }
    }

    /// The command names from `octopus` down to `target` (`["octopus", "ctl", "status"]`).
    static func commandPath(to target: ParsableCommand.Type, from root: ParsableCommand.Type = Octopus.self)
        -> [String]
    {
        if root == target { return [root._commandName] }
        for sub in root.configuration.subcommands {
            let below = commandPath(to: target, from: sub)
            if !below.isEmpty { return [root._commandName] + below }
        }
        return []
    }
}
