import XCTest

@testable import WaferModel

final class WorkflowLoaderTests: XCTestCase {
    func testShippedWorkflowsLoad() throws {
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        XCTAssertEqual(library.names, library.names.sorted(), "sorted by name")
        let graph = library[library.index(of: "detect-classify")!]
        XCTAssertEqual(graph.blocks[graph.entry].name, "preprocess")
        guard
            case .control(.branch(let p, let then, let otherwise)) = graph.blocks[graph.index(of: "objects-found")!]
                .kind
        else {
            return XCTFail("objects-found is a branch")
        }
        XCTAssertEqual(p.probability[0], 0.7)
        XCTAssertEqual(then, .block(graph.index(of: "classifier")!))
        XCTAssertEqual(otherwise, .end)
    }

    private func error(_ yaml: String) -> ConfigError? {
        do {
            _ = try WorkflowLoader.parse(yaml, file: "wf.yaml")
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    func testUnknownSuccessorIsLocated() {
        let e = error(
            """
            name: w
            blocks:
              - name: a
                task: [{cycles: 10}]
                next: b
            """)
        XCTAssertEqual(e?.line, 5)
        XCTAssertEqual(e?.field, "blocks[0].next")
        XCTAssertTrue(e?.message.contains("unknown block 'b'") ?? false)
    }

    func testCyclesAreRejected() {
        let e = error(
            """
            name: w
            blocks:
              - name: a
                task: [{cycles: 10}]
                next: c
              - name: c
                branch: {probability: 0.5, then: a, else: end}
            """)
        XCTAssertTrue(e?.message.contains("a cycle that is not a declared loop") ?? false, "\(String(describing: e))")
    }

    func testUnreachableBlocksAreRejected() {
        let e = error(
            """
            name: w
            blocks:
              - name: a
                task: [{cycles: 10}]
              - name: orphan
                task: [{cycles: 10}]
            """)
        XCTAssertEqual(e?.line, 5)
        XCTAssertTrue(e?.message.contains("cannot be reached") ?? false)
    }

    func testBadOperationsAndProbabilities() {
        XCTAssertEqual(
            error("name: w\nblocks:\n  - {name: a, task: [{gemm: [1, 2]}]}")?.field, "blocks[0].task[0].gemm")
        XCTAssertEqual(
            error("name: w\nblocks:\n  - {name: a, task: [{gemm: [1, 2, 3], cycles: 4}]}")?.field, "blocks[0].task[0]")
        XCTAssertEqual(
            error("name: w\nblocks:\n  - {name: a, branch: {probability: 1.5, then: end}}")?.field,
            "blocks[0].branch.probability")
        XCTAssertEqual(error("name: w\nblocks:\n  - {name: a}")?.field, "blocks[0]")
        XCTAssertEqual(
            error("name: w\nblocks:\n  - {name: a, task: [{cycles: 1}]}\n  - {name: a, task: [{cycles: 1}]}")?.field,
            "blocks[1].name")
        XCTAssertEqual(error("name: 'w x'\nblocks:\n  - {name: a, task: [{cycles: 1}]}")?.field, "name")
    }

    func testArrivals() throws {
        var rng = SplitMix64(seed: 1)
        let periodic = try ArrivalProcess.periodic(period: 100, jitter: 0).arrivals(count: 4, start: 50, rng: &rng)
        XCTAssertEqual(periodic, [50, 150, 250, 350])
        let jittered = try ArrivalProcess.periodic(period: 100, jitter: 30).arrivals(count: 100, start: 0, rng: &rng)
        // Sorting may swap neighbours, so each arrival lies within one period of its slot.
        for (i, t) in jittered.enumerated() { XCTAssertTrue(abs(Int(t) - i * 100) < 130, "arrival \(i) at \(t)") }
        XCTAssertEqual(jittered, jittered.sorted())
        let poisson = try ArrivalProcess.poisson(meanInterval: 1000).arrivals(count: 20_000, start: 0, rng: &rng)
        let mean = Double(poisson.last!) / Double(poisson.count)
        XCTAssertEqual(mean, 1000, accuracy: 30, "sample mean of 20,000 exponential gaps (σ of the mean ≈ 7)")
        XCTAssertEqual(try ArrivalProcess.burst.arrivals(count: 3, start: 9, rng: &rng), [9, 9, 9])
    }

    func testWorkloadRejectsUnknownWorkflow() {
        XCTAssertThrowsError(
            try WorkloadLoader.parse("injections:\n  - {workflow: nope, count: 1}", file: "wl.yaml", known: ["a"])
        ) { error in
            let e = error as! ConfigError
            XCTAssertEqual(e.field, "injections[0].workflow")
            XCTAssertEqual(e.line, 2)
        }
        XCTAssertThrowsError(
            try WorkloadLoader.parse(
                "injections:\n  - {workflow: a, count: 1, arrival: {process: periodic}}", file: "wl.yaml", known: ["a"])
        ) { error in
            XCTAssertEqual((error as! ConfigError).field, "injections[0].arrival.period_cycles")
        }
    }

    func testSplitMixKeysAreStable() {
        var a = SplitMix64(keys: 1, 2, 3)
        var b = SplitMix64(keys: 1, 2, 3)
        var c = SplitMix64(keys: 1, 2, 4)
        let x = a.next()
        XCTAssertEqual(x, b.next())
        XCTAssertNotEqual(x, c.next())
    }
}
