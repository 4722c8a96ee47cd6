import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// A speculative window need not run a cluster again when only views or balancing signals it
/// would have absorbed late changed; its state is corrected before it runs on, and the correction
/// checks that it sends and records exactly what the committed run did.
final class LateAbsorptionTests: XCTestCase {
    private func view(_ arrival: Cycle, pending: Cycle, sequence: UInt64) -> Envelope {
        Envelope(
            source: .coordinator, destination: .cluster(0), sendTime: arrival - 10, arrival: arrival,
            sequence: sequence,
            message: .view(
                LoadViewUpdate(
                    time: arrival - 10, clusters: [ClusterLoad(cluster: 1, tbus: 2, pendingCycles: pending)])))
    }

    private func signal(_ arrival: Cycle, cycles: Cycle, sequence: UInt64) -> Envelope {
        Envelope(
            source: .cluster(1), destination: .cluster(0), sendTime: arrival - 20, arrival: arrival,
            sequence: sequence,
            message: .balance(BalanceSignal(kind: .load, cluster: 1, cycles: cycles, count: 0)))
    }

    private func task(_ arrival: Cycle, request: UInt64, sequence: UInt64) -> Envelope {
        Envelope(
            source: .coordinator, destination: .cluster(0), sendTime: arrival - 10, arrival: arrival,
            sequence: sequence,
            message: .task(
                TaskMessage(request: request, taskType: TaskType(workflow: 0, block: 0), bytes: 0, injected: 0)))
    }

    func testChangesAreCoveredOnlyWhenEachIsAViewOrSignalFromItsKindsTime() {
        let late = LateAbsorption(views: 500, balanceSignals: 800)
        let ran = [view(300, pending: 1, sequence: 1), view(600, pending: 1, sequence: 2)]
        XCTAssertTrue(late.covers(changesFrom: ran, to: ran), "nothing changed")
        XCTAssertTrue(late.covers(changesFrom: [], to: []))
        // A view re-sent with other contents, at or after 500: covered; before 500: not.
        XCTAssertTrue(late.covers(changesFrom: ran, to: [ran[0], view(600, pending: 9, sequence: 2)]))
        XCTAssertTrue(late.covers(changesFrom: ran, to: [ran[0], view(500, pending: 9, sequence: 2)]))
        XCTAssertFalse(late.covers(changesFrom: ran, to: [view(300, pending: 9, sequence: 1), ran[1]]))
        // Views gone or new count the same way.
        XCTAssertTrue(late.covers(changesFrom: ran, to: [ran[0]]))
        XCTAssertFalse(late.covers(changesFrom: ran, to: [ran[1]]))
        XCTAssertTrue(late.covers(changesFrom: ran, to: ran + [view(700, pending: 3, sequence: 3)]))
        // Signals by their own time.
        XCTAssertTrue(late.covers(changesFrom: ran, to: ran + [signal(800, cycles: 5, sequence: 1)]))
        XCTAssertFalse(late.covers(changesFrom: ran, to: ran + [signal(799, cycles: 5, sequence: 1)]))
        // Anything else always needs a run, however late.
        XCTAssertFalse(late.covers(changesFrom: ran, to: ran + [task(10_000, request: 1, sequence: 9)]))
        XCTAssertFalse(LateAbsorption.none.covers(changesFrom: ran, to: [ran[0]]))
        XCTAssertTrue(LateAbsorption.none.covers(changesFrom: ran, to: ran))
    }

    func testDiffusionReadsNeighbourLoadsOnlyWhereItCanMoveWork() {
        let diffusion = DiffusionBalancing(rate: 0.2)
        let signal = BalancingTrigger.signal(BalanceSignal(kind: .load, cluster: 1, cycles: 0, count: 0))
        for trigger in [BalancingTrigger.view, .blockFinished, signal] {
            XCTAssertEqual(diffusion.reads(on: trigger, queueCount: 0), [])
            XCTAssertEqual(diffusion.reads(on: trigger, queueCount: 1), [])
            XCTAssertEqual(diffusion.reads(on: trigger, queueCount: 2), .peerSignals)
        }
        XCTAssertEqual(diffusion.reads(on: .loadTick, queueCount: 5), [], "a tick reads only the cluster's own load")
        XCTAssertEqual(NoBalancing().reads(on: .view, queueCount: 5), [])
        XCTAssertEqual(
            WorkStealingBalancing(threshold: 1, size: 1).reads(on: .loadTick, queueCount: 0), .all,
            "a policy that does not say reads everything")
    }

    /// One cluster of a 1×2 wafer with one TBU and the default scheduler (diffusion balancing),
    /// and a workflow of two 1,000-cycle blocks.
    private func makeRunner() throws -> ClusterWindowRunner {
        let config = try WaferConfigLoader.parse(
            """
            mesh: {rows: 1, columns: 2}
            cluster: {tbus: 1, load_signal_period_cycles: 100000}
            links: {control_latency_cycles: 10}
            """, file: "late.yaml")
        let library = WorkflowLibrary([
            try WorkflowLoader.parse(
                """
                name: two
                blocks:
                  - {name: work, task: [{cycles: 1000}], output_bytes: 8, next: more}
                  - {name: more, task: [{cycles: 1000}], output_bytes: 8}
                """, file: "two.yaml")
        ])
        return ClusterWindowRunner(engine: ClusterEngine(id: 0, config: config, library: library, scheduler: .octopus))
    }

    func testARunReportsWhenChangedViewsAndSignalsStopMattering() throws {
        let runner = try makeRunner()
        // A block arrives at 100; when it finishes its successor is placed (which reads the
        // view); the queue never holds two blocks, so diffusion neither reacts to views nor reads
        // what signals record.
        let report = try runner.run(
            WindowRun(
                cluster: 0, inputs: [task(100, request: 1, sequence: 1)], inWindow: [view(400, pending: 5, sequence: 1)]
            ),
            window: WindowPlan(index: 1, start: 0, end: 5000), speculative: true)
        XCTAssertEqual(report.lateAbsorption.balanceSignals, 0, "no signal could have mattered at any time")
        // The block ends (about 3,100 with reconfiguration) and its successor is placed: a read
        // of the view, after the one that arrived at 400.
        XCTAssertGreaterThan(report.lateAbsorption.views, 400, "the completion's placement reads the view")
        XCTAssertLessThan(report.lateAbsorption.views, 5000)
        // A conservative run reports nothing absorbed late.
        let conservative = try runner.run(
            WindowRun(cluster: 0), window: WindowPlan(index: 2, start: 5000, end: 6000), speculative: false)
        XCTAssertEqual(conservative.lateAbsorption, .none)
    }

    func testACorrectionBringsTheStateToTheCommittedMessagesAndChecksTheOutput() throws {
        let inputs = [task(100, request: 1, sequence: 1)]
        let committedView = view(4000, pending: 77, sequence: 2)
        // The reference: the window run once with the messages it should have had.
        let reference = try makeRunner()
        _ = try reference.run(
            WindowRun(cluster: 0, inputs: inputs, inWindow: [committedView]),
            window: WindowPlan(index: 1, start: 0, end: 5000), speculative: true)

        let runner = try makeRunner()
        let stale = try runner.run(
            WindowRun(cluster: 0, inputs: inputs, inWindow: [view(4000, pending: 1, sequence: 2)]),
            window: WindowPlan(index: 1, start: 0, end: 5000), speculative: true)
        XCTAssertTrue(
            stale.lateAbsorption.covers(changesFrom: [view(4000, pending: 1, sequence: 2)], to: [committedView]))
        XCTAssertNotEqual(runner.engine.view, reference.engine.view, "the stale view is in the state")
        // The next grant carries the correction: the state becomes the reference's.
        _ = try runner.run(
            WindowRun(
                cluster: 0,
                correction: WindowCorrection(window: 1, end: 5000, inWindow: [committedView])),
            window: WindowPlan(index: 2, start: 5000, end: 6000), speculative: true)
        XCTAssertEqual(runner.engine.view, reference.engine.view)
        XCTAssertEqual(runner.engine.finalStats(end: 6000).events, reference.engine.finalStats(end: 5000).events)

        // A correction that would change what the window sent is refused, not carried on.
        let broken = try makeRunner()
        _ = try broken.run(
            WindowRun(cluster: 0, inputs: inputs), window: WindowPlan(index: 1, start: 0, end: 5000), speculative: true)
        XCTAssertThrowsError(
            try broken.run(
                WindowRun(
                    cluster: 0,
                    correction: WindowCorrection(window: 1, end: 5000, inWindow: [task(2000, request: 2, sequence: 3)])),
                window: WindowPlan(index: 2, start: 5000, end: 6000), speculative: true)
        ) { error in
            XCTAssertTrue("\(error)".contains("changed what it sent"), "\(error)")
        }
        // Nor can a cluster correct a window it has not run.
        XCTAssertThrowsError(
            try makeRunner().run(
                WindowRun(cluster: 0, correction: WindowCorrection(window: 1, end: 5000, inWindow: [])),
                window: WindowPlan(index: 2, start: 5000, end: 6000), speculative: true))
    }

    /// A run that stops (a `stop` request) while corrections are still owed settles them before
    /// its statistics are collected: every cluster ends in the state, and with the statistics, of
    /// a run that ran each changed cluster again instead (the same windows: fixed length).
    func testAStopWhileCorrectionsAreOwedSettlesThemFirst() throws {
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let injections = try WorkloadLoader.load(
            path: repositoryRoot + "/Configs/workloads/suite-small.yaml", known: Set(library.names))
        func session(_ name: String, corrects: Bool) throws -> WaferSession {
            let session = WaferSession.inProcess(config: config, library: library, scheduler: .standard(name))
            session.usesGlobalEventOrder = false
            // One length throughout, so both sessions cut the run into the same windows.
            session.speculation = Speculation(
                enabled: true, length: 20_000, minimumLength: 20_000, maximumLength: 20_000)
            session.correctsLateAbsorption = corrects
            for injection in injections { try session.inject(injection) }
            return session
        }
        func views(_ session: WaferSession) -> [WaferLoadView] {
            (session.transport as! InProcessTransport).clusters.map(\.view)
        }
        var stopsChecked = 0
        for name in SchedulerRegistry.standard.names {
            let correcting = try session(name, corrects: true)
            let rerunning = try session(name, corrects: false)
            while try correcting.step() {
                XCTAssertTrue(try rerunning.step(), name)
                XCTAssertEqual(correcting.now, rerunning.now, "\(name): the same windows")
                guard !correcting.owingCorrections.isEmpty else { continue }
                // Stop here: the owing clusters still hold what their late-absorbing runs left.
                XCTAssertNotEqual(views(correcting), views(rerunning), "\(name): a correction is due")
                // Decision times are wall clock; everything else must agree.
                func modelled(_ stats: [ClusterStats]) -> [ClusterStats] {
                    stats.map {
                        var cluster = $0
                        cluster.decisionNanos = 0
                        return cluster
                    }
                }
                let stats = try correcting.collectStats()
                XCTAssertTrue(correcting.owingCorrections.isEmpty, name)
                XCTAssertEqual(views(correcting), views(rerunning), "\(name): corrected to the committed views")
                let reference = try rerunning.collectStats()
                XCTAssertEqual(
                    modelled(stats), modelled(reference), "\(name): the statistics of the run that ran again")
                stopsChecked += 1
                break
            }
        }
        XCTAssertGreaterThan(stopsChecked, 0, "some scheduler's run owed corrections between windows")
    }
}
