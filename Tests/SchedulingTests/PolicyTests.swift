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
