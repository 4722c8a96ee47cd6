import ArgumentParser
import Emulation
import Foundation
import WaferModel

/// `octopus optimistic-experiment`: runs a workload in one process twice — in global event order
/// (the oracle) and optimistically, as in Time Warp (``WaferSession/runOptimistically(stepsPerTurn:optimism:)``)
/// — checks that both give the same results and prints what the optimistic run cost, as JSON.
/// An experiment for the design of the multi-process wafer (docs/synchronisation.md), not a host:
/// hidden from the command list.
struct OptimisticExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimistic-experiment",
        abstract: "Count what running the wafer optimistically (Time Warp) would cost (an experiment).",
        discussion: """
            Runs the workload in one process in global event order and then optimistically: every \
            participant runs ahead on what it has received, taking turns of --steps timestamps and \
            never more than --optimism cycles ahead of global virtual time; a message arriving in \
            a participant's past rolls it back to a checkpoint, and what it does not send again is \
            cancelled. Exits 1 if the two runs' results differ; prints the counts (rollbacks, \
            events executed and committed, messages, anti-messages) as one JSON object. See \
            docs/synchronisation.md, "An optimistic wafer, counted".
            """,
        shouldDisplay: false)

    @OptionGroup var model: ModelOptions

    @Option(help: "Workload to inject (YAML).")
    var workload = "Configs/workloads/default.yaml"

    @Option(help: "Timestamps a participant runs in one turn.") var steps: Int = 8

    @Option(help: "How far (cycles) a participant may run ahead of global virtual time (default: without bound).")
    var optimism: UInt64?

    func validate() throws {
        guard (1...1_000_000).contains(steps) else {
            throw ValidationError("--steps must be 1 to 1000000, not \(steps)")
        }
        if let optimism, !(1...Limits.largestDuration).contains(optimism) {
            throw ValidationError("--optimism must be 1 to \(Limits.largestDuration) cycles, not \(optimism)")
        }
    }

    func run() throws {
        do {
            let (config, library) = try model.load(workload: workload)
            let scheduler = try model.schedulerSpec()
            let injections = try WorkloadLoader.load(path: workload, library: library)
            func session() throws -> WaferSession {
                let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
                for injection in injections { try session.inject(injection) }
                return session
            }
            let oracle = try session()
            try oracle.runUntilIdle()
            let expected = SummaryBuilder.results(session: oracle, stats: try oracle.collectStats())
            let optimistic = try session()
            let start = Date()
            let counts = optimistic.runOptimistically(stepsPerTurn: steps, optimism: optimism ?? .never)
            let seconds = Date().timeIntervalSince(start)
            let results = SummaryBuilder.results(session: optimistic, stats: try optimistic.collectStats())
            guard results == expected else {
                FileHandle.standardError.write(
                    Data("octopus: error: the optimistic run's results differ from the oracle's\n".utf8))
                Foundation.exit(1)
            }
            let fields: [String: Any] = [
                "workload": workload, "steps": steps, "optimism": optimism.map { $0 as Any } ?? NSNull(),
                "same_results": true, "wall_seconds": seconds, "rounds": counts.rounds, "turns": counts.turns,
                "events_executed": counts.eventsExecuted, "events_committed": counts.eventsCommitted,
                "straggler_rollbacks": counts.stragglerRollbacks,
                "cancellation_rollbacks": counts.cancellationRollbacks,
                "annihilations": counts.annihilations, "messages_sent": counts.messagesSent,
                "messages_kept": counts.messagesKept, "anti_messages": counts.antiMessages,
                "checkpoints": counts.checkpoints, "messages_committed": results.messages.total,
                "task_blocks": results.overall.taskBlocks,
            ]
            let json = try JSONSerialization.data(
                withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: json, as: UTF8.self))
        } catch {
            exitReporting(error)
        }
    }
}
