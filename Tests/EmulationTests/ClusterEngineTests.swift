import Scheduling
import WaferModel
import XCTest

@testable import Emulation

final class ClusterEngineTests: XCTestCase {
    /// One cluster of a 1×2 wafer with two TBUs, and a one-block workflow of 1,000 cycles.
    func makeEngine(queueCapacity: Int = 8) throws -> (ClusterEngine, WorkflowLibrary) {
        var config = try WaferConfigLoader.parse(
            """
            mesh: {rows: 1, columns: 2}
            cluster: {tbus: 2, reconfiguration_cycles: 100, load_signal_period_cycles: 500}
            links: {control_latency_cycles: 10}
            """, file: "c.yaml")
        config.cluster.queueCapacity = queueCapacity
        let library = WorkflowLibrary([
            try WorkflowLoader.parse(
                """
                name: one
                blocks:
                  - {name: work, task: [{cycles: 1000}], output_bytes: 8}
                """, file: "w.yaml")
        ])
        return (ClusterEngine(id: 0, config: config, library: library, scheduler: .standard("least-loaded")), library)
    }

    func task(_ request: UInt64, at time: Cycle) -> Envelope {
        Envelope(
            source: .coordinator, destination: .cluster(0), sendTime: time - 10, arrival: time, sequence: request + 1,
            message: .task(
                TaskMessage(request: request, taskType: TaskType(workflow: 0, block: 0), bytes: 0, injected: time - 10))
        )
    }

    func testLoadSignalsCarryPerTypeWorkAndConfigurations() throws {
        let (engine, _) = try makeEngine()
        engine.receive((0..<3).map { task($0, at: 100) })
        // Before the first load tick (500) the cluster promises nothing earlier than it.
        let first = engine.runWindow(end: 400)
        XCTAssertTrue(first.envelopes.isEmpty)
        XCTAssertEqual(first.earliestOutput, 500, "next load tick; the running blocks finish at 1200")
        // The legal window end is the promise plus the lookahead (10): 510.
        let second = engine.runWindow(end: 510)
        guard case .load(let load)? = second.envelopes.first?.message else { return XCTFail("a load signal at 500") }
        XCTAssertEqual(second.envelopes.first?.arrival, 510)
        XCTAssertEqual(load.busyTBUs, 2)
        XCTAssertEqual(load.queuedTasks, 1)
        XCTAssertEqual(
            load.byType, [TaskTypeLoad(taskType: TaskType(workflow: 0, block: 0), queuedTasks: 1, pendingCycles: 1000)])
        XCTAssertEqual(load.configurations, [TaskType(workflow: 0, block: 0), TaskType(workflow: 0, block: 0)])
        // Two running blocks end at 100 + 100 (reconfiguration) + 1000 = 1200, 700 cycles after 500.
        XCTAssertEqual(load.pendingCycles, 1000 + 2 * 700)
        XCTAssertEqual(engine.finalStats(end: 510).causalityViolations, 0)
    }

    func testCompletionReportsOutcomeAndReusesConfiguration() throws {
        let (engine, _) = try makeEngine()
        engine.receive([task(0, at: 100), task(1, at: 1300)])
        let output = engine.runWindow(end: 5000)
        let outcomes = output.envelopes.compactMap { envelope -> RequestOutcome? in
            if case .outcome(let o) = envelope.message { return o } else { return nil }
        }
        // Request 0: reconfigure 100 + run 1000 from 100. Request 1 lands on TBU 0 again, which is
        // already configured: no reconfiguration, 1000 cycles from 1300.
        XCTAssertEqual(outcomes.map(\.finished), [1200, 2300])
        XCTAssertEqual(outcomes.map(\.status), [.completed, .completed])
        let stats = engine.finalStats(end: 2300)
        XCTAssertEqual(stats.tbus[0].reconfigurations, 1)
        XCTAssertEqual(stats.tbus[0].tasks, 2)
        XCTAssertEqual(stats.tbus[0].busyCycles, 2000)
        XCTAssertEqual(stats.tbus[0].starvedCycles, 100 + 100, "idle before 100 and between 1200 and 1300")
        XCTAssertEqual(stats.tbus[1].starvedCycles, 2300)
    }

    func testOverflowIsRejectedAndReported() throws {
        let (engine, _) = try makeEngine(queueCapacity: 1)
        engine.receive((0..<4).map { task($0, at: 100) })
        let output = engine.runWindow(end: 101)
        // Two start at once (the queue holds them only for an instant), one waits, one is rejected.
        let rejected = output.envelopes.compactMap { envelope -> UInt64? in
            if case .outcome(let o) = envelope.message, o.status == .rejected { return o.request } else { return nil }
        }
        XCTAssertEqual(rejected, [3])
        XCTAssertEqual(engine.finalStats(end: 101).rejected, 1)
    }

    /// A plan's index is built when a decision first reads it; whenever it is read it must be the
    /// index of the plan the cluster holds — after a new plan, and after returning to a snapshot
    /// taken under an older one, whether or not the index had been built.
    func testThePlanIndexAlwaysIndexesTheCurrentPlan() throws {
        let (engine, _) = try makeEngine()
        let type = TaskType(workflow: 0, block: 0)
        func check(_ label: String, file: StaticString = #filePath, line: UInt = #line) {
            let expected = PlanIndex(engine.plan)
            let index = engine.planIndex
            XCTAssertEqual(index.epoch, engine.plan.epoch, label, file: file, line: line)
            XCTAssertEqual(index.poolClusters, expected.poolClusters, label, file: file, line: line)
            XCTAssertEqual(index.planned, expected.planned, label, file: file, line: line)
            XCTAssertEqual(index.plannedFlags, expected.plannedFlags, label, file: file, line: line)
            XCTAssertEqual(
                index.hosts.mapValues { $0.map { $0.cluster } }, expected.hosts.mapValues { $0.map { $0.cluster } },
                label,
                file: file, line: line)
        }
        func plan(epoch: UInt32, reservedOn cluster: Int) -> Envelope {
            var reserved = Array(repeating: Array(repeating: [TaskType](), count: 2), count: 2)
            var weights = Array(repeating: Array(repeating: [Double](), count: 2), count: 2)
            reserved[cluster][0] = [type]
            weights[cluster][0] = [1]
            let configure = Array(repeating: [TaskType?](repeating: type, count: 2), count: 2)
            return Envelope(
                source: .coordinator, destination: .cluster(0), sendTime: Cycle(epoch) * 100,
                arrival: Cycle(epoch) * 100 + 10, sequence: UInt64(epoch),
                message: .plan(WaferPlan(epoch: epoch, reserved: reserved, weights: weights, configure: configure)))
        }
        check("the empty plan")
        let beforePlans = engine.snapshot()
        engine.receive([plan(epoch: 1, reservedOn: 0)])
        _ = engine.runWindow(end: 150)
        XCTAssertEqual(engine.plan.epoch, 1)
        check("the first plan, read for the first time")
        let underFirst = engine.snapshot()
        engine.receive([plan(epoch: 2, reservedOn: 1)])
        _ = engine.runWindow(end: 250)
        XCTAssertEqual(engine.plan.epoch, 2)
        // Returning to a snapshot whose index was built, then to one whose index was not.
        engine.restore(underFirst)
        XCTAssertEqual(engine.plan.epoch, 1)
        check("back under the first plan")
        engine.restore(beforePlans)
        XCTAssertEqual(engine.plan.epoch, 0)
        check("back before any plan")
        engine.receive([plan(epoch: 2, reservedOn: 1)])
        _ = engine.runWindow(end: 250)
        check("the second plan after the returns")
        XCTAssertEqual(engine.planIndex.hosts[type]?.map { $0.cluster }, [1])
    }
}

/// Work-conserving reservations (`octopus:lend=1`): a free TBU whose reserved types have nothing
/// queued is lent to any type; while one of them waits it stays reserved.
final class LendingTests: XCTestCase {
    func testIdleReservedArraysAreLentOnlyWhileNothingOfTheirsWaits() {
        let a = TaskType(workflow: 0, block: 0)
        let b = TaskType(workflow: 0, block: 1)
        let pool = TBUPool(count: 2)
        var queue = ClusterQueue()
        let message = TaskMessage(request: 1, taskType: b, bytes: 0, injected: 0)
        queue.append(
            QueuedBlock(task: message, info: QueuedTask(taskType: b, predictedCycles: 10, enqueued: 0)), at: 0)
        let reserved = [[a], [b]]
        XCTAssertEqual(pool.snapshots(reserved: reserved, queue: queue).map(\.reservedFor), [[a], [b]])
        XCTAssertEqual(
            pool.snapshots(reserved: reserved, queue: queue, lend: true).map(\.reservedFor), [nil, [b]],
            "nothing of type a waits: its array is lent")
        var both = queue
        both.append(
            QueuedBlock(
                task: TaskMessage(request: 2, taskType: a, bytes: 0, injected: 0),
                info: QueuedTask(taskType: a, predictedCycles: 10, enqueued: 0)), at: 0)
        XCTAssertEqual(pool.snapshots(reserved: reserved, queue: both, lend: true).map(\.reservedFor), [[a], [b]])
        let octopus = try? SchedulerRegistry.standard.scheduler("octopus:lend=1")
        XCTAssertEqual(octopus?.lendsIdleReservations, true)
        XCTAssertEqual(octopus?.description, "octopus:lend=1")
        XCTAssertEqual(try? SchedulerRegistry.standard.scheduler("octopus").description, "octopus")
    }
}
