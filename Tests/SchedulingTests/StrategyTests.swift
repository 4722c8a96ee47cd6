import Scheduling
import WaferModel
import XCTest

/// The decisions of each Octopus strategy and baseline on hand-built state snapshots.
final class StrategyTests: XCTestCase {
    func mesh(_ rows: Int, _ columns: Int) throws -> Mesh {
        try WaferConfigLoader.parse("mesh: {rows: \(rows), columns: \(columns)}", file: "m.yaml").mesh
    }

    let a = TaskType(workflow: 0, block: 0)
    let b1 = TaskType(workflow: 1, block: 0)
    let b2 = TaskType(workflow: 1, block: 2)

    // MARK: Proactive versus reactive

    /// Requests of workflow 1 sit at b1 and will run the expensive b2 next; nothing of b2 exists yet.
    /// The proactive planner configures arrays for b2 now; work stealing sees no imbalance until
    /// the b2 blocks are queued, and only then moves work.
    func testProactivePlannerMovesBeforeTheShiftThatStealingOnlyFollows() throws {
        let mesh = try mesh(2, 2)
        var predictor = DemandPredictor(
            visits: [a: 1, b1: 1, b2: 1], cycles: [a: 10_000, b1: 1_000, b2: 200_000], downstream: [b1: [b2]])
        predictor.observe(length: 1_000_000, arrivals: [0: 50], runs: [a: (runs: 50, cycles: 500_000)])
        let demand = predictor.predict(horizon: 1_000_000, inFlight: [b1: 8])
        XCTAssertEqual(
            demand[b2] ?? 0, 8 * 200_000, accuracy: 1e-6, "in-flight requests announce their downstream work")
        XCTAssertGreaterThan(demand[b2] ?? 0, demand[a] ?? 0)

        let before = ProportionalMapping.plan(
            ProportionalMapping.map([a: 1], mesh: mesh, tbus: 2), clusters: 4, tbus: 2, stable: [a], epoch: 1)
        XCTAssertFalse(before.configure.joined().contains(b2))
        let next = try XCTUnwrap(
            ProactivePlanner().plan(demand: demand, stable: [a], mesh: mesh, tbus: 2, current: before))
        XCTAssertGreaterThan(
            next.configure.joined().filter { $0 == b2 }.count, 0, "arrays are prepared for b2 ahead of its first block")

        // The reactive baseline at the same moment: 8 small b1 blocks queued on cluster 0.
        let stealing = WorkStealing(threshold: 200_000, size: 2)
        var view = WaferLoadView.idle(clusters: 4, tbus: 2)
        view.clusters[0].queuedTasks = 8
        view.clusters[0].pendingCycles = 8 * 1_000
        XCTAssertNil(stealing.victim(for: 1, view: view), "no imbalance is visible yet")
        // After the shift the b2 blocks are queued, the imbalance shows, and stealing reacts.
        view.clusters[0].pendingCycles = 8 * 200_000
        XCTAssertEqual(stealing.victim(for: 1, view: view), 0)
    }

    func testPredictionErrorIsWeightedAbsolutePercentage() {
        XCTAssertEqual(DemandPredictor.error(predicted: [a: 90, b1: 10], actual: [a: 100]), 0.2)
        XCTAssertNil(DemandPredictor.error(predicted: [a: 1], actual: [:]))
    }

    // MARK: Diffusion

    func testDiffusionConservesWorkAndConvergesOnAMesh() throws {
        let mesh = try mesh(4, 4)
        let balancer = DiffusionBalancer(rate: 0.2)
        var loads = [Double](repeating: 0, count: 16)
        loads[0] = 1_600
        loads[5] = 320
        let total = loads.reduce(0, +)
        var spreads: [Double] = []
        for _ in 0..<300 {
            loads = balancer.step(loads, mesh: mesh)
            XCTAssertEqual(loads.reduce(0, +), total, accuracy: 1e-6, "diffusion moves work, never creates or loses it")
            XCTAssertTrue(loads.allSatisfy { $0 >= -1e-9 })
            spreads.append(loads.max()! - loads.min()!)
        }
        XCTAssertLessThan(spreads.last!, 0.01 * total / 16, "converges to the mean")
        XCTAssertLessThan(spreads[10], spreads[0])
    }

    func testDiffusionSendsOnlyToLighterNeighbours() {
        let flows = DiffusionBalancer(rate: 0.25).flows(
            own: 100, neighbours: [(cluster: 1, load: 20), (cluster: 2, load: 150), (cluster: 3, load: 100)])
        XCTAssertEqual(flows.map(\.cluster), [1])
        XCTAssertEqual(flows[0].amount, 20)
    }

    // MARK: Static mapping

    func testStaticMappingIsProportionalToLoad() throws {
        let mesh = try mesh(2, 2)
        let slots = ProportionalMapping.map([a: 3, b1: 1], mesh: mesh, tbus: 2)
        XCTAssertEqual(slots.count, 8)
        var share: [TaskType: Double] = [:]
        for slot in slots {
            XCTAssertEqual(slot.types.reduce(0) { $0 + $1.1 }, 1, accuracy: 1e-9, "each TBU's segment is covered once")
            for (type, weight) in slot.types { share[type, default: 0] += weight }
        }
        XCTAssertEqual(share[a] ?? 0, 6, accuracy: 1e-9)
        XCTAssertEqual(share[b1] ?? 0, 2, accuracy: 1e-9)
        // Snake order keeps neighbouring segments in neighbouring clusters.
        XCTAssertEqual(ProportionalMapping.snakeOrder(mesh), [0, 1, 3, 2])
        // The static plan reserves every TBU; a discriminating plan keeps only stable types reserved.
        let pinned = ProportionalMapping.plan(slots, clusters: 4, tbus: 2, stable: nil, epoch: 1)
        XCTAssertFalse(pinned.reserved.joined().contains { $0.isEmpty })
        let dual = ProportionalMapping.plan(slots, clusters: 4, tbus: 2, stable: [a], epoch: 1)
        XCTAssertEqual(dual.reserved.joined().filter { $0.isEmpty }.count, 2, "b1's TBUs become the elastic pool")
    }

    // MARK: Classifier

    func testClassifierSeparatesStableFromDynamicTypes() {
        var classifier = TaskClassifier()
        classifier.declare([a, b1])
        XCTAssertEqual(classifier.classify(a), .unknown)
        for window in 0..<5 {
            // a: one run of 1000 cycles per request; b1: 500 or 1500 cycles, and 0 or 2 runs per request.
            classifier.observeRuns(a, runs: 8, cycles: 8_000, squares: 8 * 1_000_000)
            let runs: Double = window % 2 == 0 ? 16 : 4
            classifier.observeRuns(
                b1, runs: runs, cycles: runs * 1_000, squares: runs / 2 * (500 * 500 + 1_500 * 1_500))
            classifier.observeArrivals(workflow: 0, count: 8)
            classifier.observeArrivals(workflow: 1, count: 8)
        }
        XCTAssertEqual(classifier.classify(a), .stable)
        XCTAssertEqual(classifier.classify(b1), .dynamic)
        XCTAssertEqual(classifier.stableTypes, [a])
    }

    /// `octopus:stable=X` sets the threshold of the discrimination: with a high one every type
    /// observed long enough is stable (keeps reserved TBUs); with 0 only constant ones are.
    func testTheStableThresholdIsAParameterOfOctopus() throws {
        func classifier(_ text: String) throws -> TaskClassifier {
            let scheduler = try SchedulerRegistry.standard.scheduler(text)
            XCTAssertEqual(try SchedulerRegistry.standard.scheduler(scheduler.description).description, text)
            let planning = try XCTUnwrap(scheduler.planning as? ProactiveClusterScheduling)
            return planning.classifier
        }
        XCTAssertEqual(
            try classifier("octopus").threshold, TaskClassifier.defaultThreshold,
            "the default is hidden from the text form")
        XCTAssertEqual(try classifier("octopus:stable=0.15").threshold, 0.15)
        var lenient = try classifier("octopus:stable=10.0")
        var strict = try classifier("octopus:stable=0.0")
        XCTAssertEqual(lenient.threshold, 10)
        for window in 0..<5 {
            let runs: Double = window % 2 == 0 ? 16 : 4
            lenient.observeRuns(b1, runs: runs, cycles: runs * 1_000, squares: runs / 2 * (500 * 500 + 1_500 * 1_500))
            strict.observeRuns(a, runs: 8, cycles: 8_000, squares: 8 * 1_000_000)
            lenient.observeArrivals(workflow: 1, count: 8)
            strict.observeArrivals(workflow: 0, count: 8)
        }
        XCTAssertEqual(lenient.classify(b1), .stable, "a CV of 0.5 is under 10")
        XCTAssertEqual(strict.classify(a), .stable, "a constant type is stable even at 0")
    }

    // MARK: Adaptive TBU scheduling

    func testAdaptiveDispatchPrefersAConfiguredTBU() {
        let tbus = [
            TBUSnapshot(index: 0, isBusy: false, configuredFor: a),
            TBUSnapshot(index: 1, isBusy: false, configuredFor: b1),
        ]
        let queue = [
            QueuedTask(taskType: b1, predictedCycles: 100, enqueued: 0),
            QueuedTask(taskType: a, predictedCycles: 100, enqueued: 0),
        ]
        let decisions = AdaptiveDispatch().dispatch(
            queue: QueueView(queue), tbus: tbus, context: DispatchContext(now: 0, reconfigurationCycles: 1_000))
        XCTAssertEqual(
            decisions, [DispatchDecision(queuePosition: 0, tbu: 1), DispatchDecision(queuePosition: 1, tbu: 0)])
    }

    func testAdaptiveDispatchSplitsWhenTheQueueIsShortAndNotWhenLong() {
        let tbus = (0..<4).map { TBUSnapshot(index: $0, isBusy: false, configuredFor: a) }
        let context = DispatchContext(now: 0, reconfigurationCycles: 0) { _, parts in 1_000_000 / Cycle(parts) + 1_000 }
        let short = AdaptiveDispatch().dispatch(
            queue: [QueuedTask(taskType: a, predictedCycles: 1_001_000, enqueued: 0)], tbus: tbus, context: context)
        XCTAssertEqual(
            short, [DispatchDecision(queuePosition: 0, tbus: [0, 1, 2, 3])], "one long block takes every free array")
        let long = (0..<6).map { _ in QueuedTask(taskType: a, predictedCycles: 1_001_000, enqueued: 0) }
        let decisions = AdaptiveDispatch().dispatch(queue: QueueView(long), tbus: tbus, context: context)
        XCTAssertEqual(decisions.count, 4)
        XCTAssertTrue(decisions.allSatisfy { $0.tbus.count == 1 }, "a long queue runs blocks side by side")
        // A split that does not pay for itself is not taken.
        let flat = DispatchContext(now: 0, reconfigurationCycles: 0) { _, parts in parts == 1 ? 100_000 : 95_000 }
        XCTAssertEqual(
            AdaptiveDispatch().dispatch(
                queue: [QueuedTask(taskType: a, predictedCycles: 100_000, enqueued: 0)], tbus: tbus, context: flat),
            [DispatchDecision(queuePosition: 0, tbu: 0)])
    }

    // MARK: Score

    func testScoreDispatchServesTheUrgentBlockFirst() {
        let tbus = [TBUSnapshot(index: 0, isBusy: false, configuredFor: nil)]
        let relaxed = QueuedTask(taskType: a, predictedCycles: 1_000, enqueued: 0, deadline: 10_000_000)
        let urgent = QueuedTask(taskType: b1, predictedCycles: 1_000, enqueued: 500, deadline: 3_000)
        var score = ScoreDispatch()
        XCTAssertEqual(
            score.dispatch(
                queue: [relaxed, urgent], tbus: tbus, context: DispatchContext(now: 1_000, reconfigurationCycles: 0)),
            [DispatchDecision(queuePosition: 1, tbu: 0)])
        XCTAssertEqual(score.weights.urgency + score.weights.affinity + score.weights.fairness, 3, accuracy: 1e-9)
    }

    // MARK: Stealing

    func testStealingGivesTheYoungestBlocksWithoutReversingTheImbalance() {
        let stealing = WorkStealing(threshold: 1_000, size: 4)
        let queue = [
            QueuedTask(taskType: a, predictedCycles: 4_000, enqueued: 0),
            QueuedTask(taskType: a, predictedCycles: 1_000, enqueued: 1, isControl: true),
            QueuedTask(taskType: a, predictedCycles: 3_000, enqueued: 2),
            QueuedTask(taskType: a, predictedCycles: 2_000, enqueued: 3),
        ]
        XCTAssertEqual(
            stealing.give(queue: queue, victimPending: 10_000, thiefPending: 0), [3, 2],
            "control blocks stay; stop before reversing")
        XCTAssertEqual(
            stealing.give(queue: queue, victimPending: 1_500, thiefPending: 1_000), [],
            "below the threshold nothing moves")
    }

    /// A block holding a flow-control credit stays where its sender reserved a buffer slot: the
    /// balancing policies never choose one (choosing it anyway made a victim answer "sent 1" for a
    /// block the engine kept, and its thief ask again at once, millions of times).
    func testBalancingNeverChoosesABlockThatCannotMove() throws {
        let credited = QueuedTask(taskType: a, predictedCycles: 2_000, enqueued: 3, movable: false)
        let free = QueuedTask(taskType: a, predictedCycles: 3_000, enqueued: 2)
        let stealing = WorkStealing(threshold: 1_000, size: 4)
        XCTAssertEqual(
            stealing.give(queue: [free, free, credited], victimPending: 10_000, thiefPending: 0), [1, 0],
            "the movable blocks, youngest first")
        XCTAssertEqual(stealing.give(queue: [credited, credited], victimPending: 10_000, thiefPending: 0), [])

        // Diffusion, told of an idle neighbour, moves movable blocks only.
        final class Queue: BalancingSource {
            let tasks: [QueuedTask]
            init(_ tasks: [QueuedTask]) { self.tasks = tasks }
            func queuedTasks() -> [QueuedTask] { tasks }
            func pendingCycles(at now: Cycle) -> Cycle { tasks.reduce(0) { $0 + $1.predictedCycles } }
        }
        let mesh = try mesh(1, 2)
        for (tasks, moved) in [([free, credited, free, credited], [2, 0]), ([credited, credited, credited], [])] {
            var diffusion = DiffusionBalancing(rate: 0.5)
            let state = BalancingState(
                cluster: 0, now: 0, tbus: 1, hasFreeTBU: false, queueCapacity: 100, queueCount: tasks.count,
                view: WaferLoadView(time: 0, clusters: (0..<2).map { ClusterLoad(cluster: $0, tbus: 1) }),
                plan: PlanIndex(.empty(clusters: 2, tbus: 1)), mesh: mesh, source: Queue(tasks))
            let decision = diffusion.react(
                to: .signal(BalanceSignal(kind: .load, cluster: 1, cycles: 0, count: 0)), state: state)
            let positions = decision.actions.flatMap { action -> [Int] in
                if case .migrate(let positions, to: 1) = action { positions } else { [] }
            }
            XCTAssertEqual(positions, moved, "\(tasks.map(\.movable))")
        }
    }
}
