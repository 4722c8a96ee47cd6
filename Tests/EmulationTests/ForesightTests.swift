import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// The clairvoyant planner's knowledge (``Foresight``): a dry run of each request's workflow lists
/// exactly the blocks the real run executes.
final class ForesightTests: XCTestCase {
    func testADryRunOfEveryRequestPredictsExactlyTheBlocksAndCyclesTheWaferRuns() throws {
        // least-loaded: control blocks on the CBUs and no split blocks, so the TBUs' busy cycles are
        // exactly the task blocks' one-array cycles; queues large enough that nothing is rejected.
        let (session, results) = try runInProcess(
            workload: "suite-small", scheduler: .standard("least-loaded"),
            edit: { $0.cluster.queueCapacity = 10_000 })
        XCTAssertEqual(results.overall.rejected, 0)
        let config = session.coordinator.config
        let library = session.coordinator.library
        let foresight = Foresight(library: library, config: config)
        var blocks: [TaskType: UInt64] = [:]
        var cycles: Cycle = 0
        for record in session.coordinator.records {
            let outcome = record.outcome
            let graph = library[Int(outcome.workflow)]
            let entry = TaskMessage(
                request: outcome.request, taskType: TaskType(workflow: Int(outcome.workflow), block: graph.entry),
                bytes: graph.inputBytes, injected: outcome.injected)
            for (type, list) in foresight.dryRun(entry).blocks {
                blocks[type, default: 0] += UInt64(list.count)
                cycles += list.reduce(0, +)
            }
        }
        let stats = try session.transport.collectStats(end: session.accountingEnd)
        var ran: [TaskType: UInt64] = [:]
        for cluster in stats {
            for (type, count) in cluster.blockRuns {
                if case .task = library[Int(type.workflow)].blocks[Int(type.block)].kind {
                    ran[type, default: 0] += count
                }
            }
        }
        XCTAssertFalse(ran.isEmpty)
        XCTAssertEqual(blocks, ran, "every block of every request, no more, per type")
        let busy = stats.reduce(Cycle(0)) { $0 + $1.tbus.reduce(0) { $0 + $1.busyCycles } }
        XCTAssertEqual(cycles, busy, "and their cycles")
    }

    /// The ideal reference runs to the end, differs from octopus only through its planner, and
    /// is a column of nothing: it is reported beside the ablation ladder.
    func testTheClairvoyantPlannerRunsAndPlansFromItsForesight() throws {
        let clairvoyant = Scheduler.standard("octopus-clairvoyant")
        XCTAssertEqual(clairvoyant.planning.foresightHorizon, 1_000_000)
        XCTAssertNil(Scheduler.octopus.planning.foresightHorizon, "octopus predicts")
        let (session, results) = try runInProcess(workload: "suite-small", scheduler: clairvoyant)
        XCTAssertEqual(session.coordinator.records.count, 64)
        XCTAssertEqual(results.emulation.causalityViolations, 0)
        let (_, octopus) = try runInProcess(workload: "suite-small", scheduler: .octopus)
        XCTAssertNotEqual(results.scheduling.predictionError, octopus.scheduling.predictionError)
        XCTAssertNil(SchedulerRegistry.standard.definition(named: "octopus-clairvoyant")?.comparison.ablationStep)
        XCTAssertEqual(SchedulerRegistry.standard.ideals.map(\.name), ["octopus-clairvoyant"])
    }
}
