import Scheduling
import WaferModel
import XCTest

final class PolicyTests: XCTestCase {
    let mesh = try! WaferConfigLoader.parse(
        "mesh: {rows: 2, columns: 2}\nlinks: {intra_die: {hop_latency_cycles: 10, bandwidth_bytes_per_cycle: 1}}",
        file: "p.yaml"
    ).mesh

    let context = DispatchContext(now: 0, reconfigurationCycles: 0)

    func request(origin: Int?, bytes: UInt64 = 0) -> PlacementRequest {
        PlacementRequest(
            taskType: TaskType(workflow: 0, block: 0), predictedCycles: 100, inputBytes: bytes, origin: origin)
    }

    func testLeastLoadedPicksTheEarliestFinish() {
        var view = WaferLoadView.idle(clusters: 4, tbus: 2)
        view.clusters[0].pendingCycles = 1000
        view.clusters[1].pendingCycles = 200
        view.clusters[2].pendingCycles = 600
        view.clusters[3].pendingCycles = 400
        XCTAssertEqual(CompletionTimePlacement().place(request(origin: nil), view: view, mesh: mesh), 1)
    }

    func testTransferCostCanOutweighLoad() {
        var view = WaferLoadView.idle(clusters: 4, tbus: 1)
        view.clusters[0].pendingCycles = 500
        // From cluster 0, 1000 bytes at 1 B/cycle cost ≥ 1000 cycles anywhere else: stay.
        XCTAssertEqual(CompletionTimePlacement().place(request(origin: 0, bytes: 1000), view: view, mesh: mesh), 0)
        // Without data to move, the idle neighbour wins.
        XCTAssertEqual(CompletionTimePlacement().place(request(origin: 0, bytes: 0), view: view, mesh: mesh), 1)
    }

    func testTiesGoToShorterTransferThenLowerId() {
        let view = WaferLoadView.idle(clusters: 4, tbus: 1)
        XCTAssertEqual(CompletionTimePlacement().place(request(origin: nil), view: view, mesh: mesh), 0)
        XCTAssertEqual(CompletionTimePlacement().place(request(origin: 3), view: view, mesh: mesh), 3)
        // The origin's wait alone equals the best finish so far (cluster 0's: two hops away):
        // a tie, which its shorter transfer wins — the search must not pass over it.
        var loaded = WaferLoadView.idle(clusters: 4, tbus: 1)
        loaded.clusters[1].pendingCycles = 1_000
        loaded.clusters[2].pendingCycles = 1_000
        loaded.clusters[3].pendingCycles = 20
        XCTAssertEqual(CompletionTimePlacement().place(request(origin: 3), view: loaded, mesh: mesh), 3)
    }

    /// Earliest predicted finish among the pool clusters, planned configurations counted as
    /// configured, ties to the shorter transfer, then the lower id — the rule written out here by
    /// brute force against the placement's fast paths (planned clusters as flags, hop counts from
    /// a position table), through the scheduler's context and through the public entry point.
    func testCompletionTimeFollowsItsRuleWithPlannedConfigurations() throws {
        let mesh = try WaferConfigLoader.parse(
            "mesh: {rows: 4, columns: 4, die_rows: 2, die_columns: 2}\n"
                + "links: {intra_die: {hop_latency_cycles: 20, bandwidth_bytes_per_cycle: 64}, "
                + "inter_die: {hop_latency_cycles: 200, bandwidth_bytes_per_cycle: 16}}",
            file: "p.yaml"
        ).mesh
        let types = (0..<3).map { TaskType(workflow: 0, block: $0) }
        var rng = SplitMix64(seed: 21)
        for _ in 0..<500 {
            var view = WaferLoadView.idle(clusters: mesh.count, tbus: 4)
            var plan = WaferPlan.empty(clusters: mesh.count, tbus: 4)
            for cluster in 0..<mesh.count {
                view.clusters[cluster].pendingCycles = Cycle.random(in: 0...3, using: &rng) * 1_000
                view.clusters[cluster].configurations = (0..<4).map { _ in
                    Bool.random(using: &rng) ? types.randomElement(using: &rng) : nil
                }
                for tbu in 0..<4 where Int.random(in: 0..<5, using: &rng) == 0 {
                    plan.configure[cluster][tbu] = types.randomElement(using: &rng)
                }
                if Int.random(in: 0..<6, using: &rng) == 0 {  // some clusters fully reserved: not in the pool
                    plan.reserved[cluster] = Array(repeating: [types[2]], count: 4)
                    plan.weights[cluster] = Array(repeating: [1], count: 4)
                }
            }
            let index = PlanIndex(plan)
            let type = types[Int.random(in: 0..<2, using: &rng)]
            let origin = Bool.random(using: &rng) ? Int.random(in: 0..<mesh.count, using: &rng) : nil
            let request = PlacementRequest(
                taskType: type, predictedCycles: 500, inputBytes: UInt64.random(in: 0...4_000, using: &rng),
                origin: origin)
            let candidates =
                index.poolClusters.count == mesh.count || index.poolClusters.isEmpty
                ? Array(0..<mesh.count) : index.poolClusters
            let reconfiguration: Cycle = 2_000
            let expected = candidates.min { a, b in
                func key(_ c: Int) -> (Cycle, Cycle, Int) {
                    let transfer = origin.map { mesh.transferLatency(from: $0, to: c, bytes: request.inputBytes) } ?? 0
                    let configured =
                        view.clusters[c].configurations.contains(type) || plan.configure[c].contains(type)
                    let finish =
                        view.clusters[c].pendingCycles / 4 + transfer + (configured ? 0 : reconfiguration) + 500
                    return (finish, transfer, c)
                }
                return key(a) < key(b)
            }
            let context = PlacementContext(view: view, plan: index, mesh: mesh, reconfigurationCycles: reconfiguration)
            XCTAssertEqual(CompletionTimePlacement().place(request, in: context), expected)
            // With the deciding cluster's table of transfers: used when it is the origin's,
            // ignored when it is another cluster's.
            for tableOrigin in [origin ?? 0, ((origin ?? 0) + 5) % mesh.count] {
                var tabled = context
                tabled.transfers = TransferTable(mesh: mesh, origin: tableOrigin)
                XCTAssertEqual(CompletionTimePlacement().place(request, in: tabled), expected)
            }
            XCTAssertEqual(
                CompletionTimePlacement(reconfigurationCycles: reconfiguration, planned: index.planned).place(
                    request, view: view, mesh: mesh,
                    candidates: candidates.count == mesh.count ? nil : candidates),
                expected)
        }
    }

    func testNotePlacedSpreadsConsecutiveDecisions() {
        var view = WaferLoadView.idle(clusters: 4, tbus: 1)
        var chosen: [Int] = []
        for _ in 0..<4 {
            let c = CompletionTimePlacement().place(request(origin: nil), view: view, mesh: mesh)
            view.notePlaced(cycles: 100, on: c)
            chosen.append(c)
        }
        XCTAssertEqual(chosen, [0, 1, 2, 3])
    }

    func testTakingBackNotesRestoresTheView() {
        let published = WaferLoadView.idle(clusters: 4, tbus: 2)
        var view = published
        let notes = [(2, 100), (0, 7), (2, 30)] as [(Int, Cycle)]
        for (cluster, cycles) in notes { view.notePlaced(cycles: cycles, on: cluster) }
        XCTAssertEqual(view.clusters[2].queuedTasks, 2)
        XCTAssertEqual(view.clusters[2].pendingCycles, 130)
        XCTAssertNotEqual(view, published)
        for (cluster, cycles) in notes.reversed() { view.takeBack(cycles: cycles, on: cluster) }
        XCTAssertEqual(view, published)
    }

    func testFIFOFillsFreeTBUsInOrder() {
        let queue = (0..<3).map {
            QueuedTask(taskType: TaskType(workflow: 0, block: $0), predictedCycles: 10, enqueued: 0)
        }
        let tbus = [
            TBUSnapshot(index: 0, isBusy: true, configuredFor: nil),
            TBUSnapshot(index: 1, isBusy: false, configuredFor: nil),
            TBUSnapshot(index: 2, isBusy: false, configuredFor: nil),
            TBUSnapshot(index: 3, isBusy: false, configuredFor: nil),
        ]
        XCTAssertEqual(
            FIFODispatch().dispatch(queue: QueueView(queue), tbus: tbus, context: context),
            [
                DispatchDecision(queuePosition: 0, tbu: 1), DispatchDecision(queuePosition: 1, tbu: 2),
                DispatchDecision(queuePosition: 2, tbu: 3),
            ])
        XCTAssertEqual(
            FIFODispatch().dispatch(queue: QueueView(Array(queue.prefix(1))), tbus: tbus, context: context),
            [DispatchDecision(queuePosition: 0, tbu: 1)])
        XCTAssertEqual(FIFODispatch().dispatch(queue: QueueView([QueuedTask]()), tbus: tbus, context: context), [])
    }

    func testSchedulersParseFromTheirTextForm() throws {
        let registry = SchedulerRegistry.standard
        for name in registry.names {
            let scheduler = try registry.scheduler(name)
            XCTAssertEqual(try registry.scheduler(scheduler.description).description, scheduler.description)
        }
        XCTAssertEqual(
            try registry.scheduler("reactive").description, "reactive:threshold=1000000,steal=2",
            "defaults are written out")
        let reactive = try registry.scheduler("reactive:threshold=5_000,steal=3")
        XCTAssertEqual(reactive.description, "reactive:threshold=5000,steal=3")
        XCTAssertEqual((reactive.balancing as? WorkStealingBalancing)?.rule, WorkStealing(threshold: 5000, size: 3))
        func message(_ text: String) -> String {
            do {
                _ = try registry.scheduler(text)
                return ""
            } catch { return "\(error)" }
        }
        XCTAssertTrue(
            message("lottery").contains("unknown scheduler 'lottery' (known: static, reactive"), message("lottery"))
        XCTAssertTrue(message("static:threshold=1").contains("takes no parameters"))
        XCTAssertTrue(
            message("reactive:threshold=-4").contains("must be a whole number in 1..."),
            message("reactive:threshold=-4"))
        XCTAssertTrue(message("reactive:threshold=1e3").contains("must be a whole number"))
        XCTAssertTrue(
            message("reactive:depth=4").contains(
                "unknown parameter 'depth' of scheduler 'reactive' (known: threshold, steal)"))
        XCTAssertTrue(message("reactive:threshold").contains("needs a value"), message("reactive:threshold"))
        XCTAssertTrue(message("reactive:threshold=").contains("must be a whole number"), message("reactive:threshold="))
    }

    /// Defaults for a comparison reach the schedulers that have the parameter; a text's own value wins.
    func testParameterDefaultsApplyWhereTheSchedulerHasTheParameter() throws {
        let registry = SchedulerRegistry.standard
        let defaults = ["period": "50000", "threshold": "7000"]
        XCTAssertEqual(try registry.scheduler("octopus", defaults: defaults).description, "octopus:period=50000")
        XCTAssertEqual(try registry.scheduler("fifo", defaults: defaults).description, "fifo")
        XCTAssertEqual(
            try registry.scheduler("reactive:threshold=200000,steal=4", defaults: defaults).description,
            "reactive:threshold=200000,steal=4", "the text's own value wins")
        XCTAssertEqual(
            try registry.scheduler("reactive", defaults: defaults).description, "reactive:threshold=7000,steal=2")
        XCTAssertThrowsError(try registry.scheduler("octopus", defaults: ["period": "5"]))
    }
}
