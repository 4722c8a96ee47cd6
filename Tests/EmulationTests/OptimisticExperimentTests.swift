import Foundation
import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// The optimistic (Time Warp) experiment ends in the committed execution — the oracle's results
/// and events, whatever the turn length and optimism — after rollbacks along the way.
final class OptimisticExperimentTests: XCTestCase {
    private func optimistic(
        workload: String, scheduler: Scheduler, stepsPerTurn: Int, optimism: Cycle
    ) throws -> (OptimisticCounts, RunSummary.Results) {
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        let library = try WorkflowLibrary.load(
            directory: repositoryRoot + "/Configs/workflows", topologies: repositoryRoot + "/Configs/topologies")
        let injections = try WorkloadLoader.load(
            path: repositoryRoot + "/Configs/workloads/\(workload).yaml", known: Set(library.names))
        let session = WaferSession.inProcess(config: config, library: library, scheduler: scheduler)
        for injection in injections { try session.inject(injection) }
        let counts = session.runOptimistically(stepsPerTurn: stepsPerTurn, optimism: optimism)
        let stats = try session.transport.collectStats(end: session.accountingEnd)
        return (counts, SummaryBuilder.results(session: session, stats: stats))
    }

    func testEndsInTheOraclesResultsWithEveryTurnAndOptimism() throws {
        for name in ["octopus", "reactive"] {
            let (session, oracle) = try runInProcess(workload: "small", scheduler: .standard(name))
            let oracleEvents =
                session.coordinator.eventCount
                + (session.transport as! InProcessTransport).clusters.reduce(0) { $0 + $1.core.eventCount }
            for (steps, optimism) in [(1, Cycle.never), (8, Cycle(5_000)), (64, Cycle.never)] {
                let label = "\(name), \(steps) steps a turn, optimism \(optimism)"
                let (counts, results) = try optimistic(
                    workload: "small", scheduler: .standard(name), stepsPerTurn: steps, optimism: optimism)
                XCTAssertEqual(results, oracle, label)
                XCTAssertEqual(counts.eventsCommitted, oracleEvents, label)
                XCTAssertGreaterThan(counts.eventsExecuted, counts.eventsCommitted, "\(label): some events ran twice")
                XCTAssertGreaterThan(counts.stragglerRollbacks, 0, "\(label): running ahead meets stragglers")
                XCTAssertGreaterThan(counts.antiMessages, 0, label)
            }
        }
    }
}
