import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// The workflow interpreter on its own: what follows each kind of block, without queues, arrays
/// or clusters.
final class WorkflowInterpreterTests: XCTestCase {
    func interpreter(_ yaml: String, cluster: Int = 3, seed: UInt64 = 11) throws -> (WorkflowInterpreter, WorkflowGraph)
    {
        let graph = try WorkflowLoader.parse(yaml, file: "w.yaml")
        let library = WorkflowLibrary([graph])
        return (
            WorkflowInterpreter(
                cluster: cluster, library: library, streams: RequestStreams(seed: seed, library: library),
                functional: nil), graph
        )
    }

    func task(_ graph: WorkflowGraph, at block: String, request: UInt64 = 1, bytes: UInt64 = 64) -> TaskMessage {
        TaskMessage(
            request: request, taskType: TaskType(workflow: 0, block: graph.index(of: block)!), bytes: bytes, injected: 0
        )
    }

    /// The block a `.run` action goes to.
    func blockName(_ action: WorkflowAction, _ graph: WorkflowGraph) -> String? {
        guard case .run(let next) = action else { return nil }
        return graph.blocks[Int(next.taskType.block)].name
    }

    func testATaskBlockFollowsItsSuccessorWithItsOutputAndCountsItself() throws {
        let (i, graph) = try interpreter(
            """
            name: w
            blocks:
              - {name: a, task: [{cycles: 10}], output_bytes: 128, next: b}
              - {name: b, task: [{cycles: 10}]}
            """)
        var interpreter = i
        let actions = interpreter.finishedTask(task(graph, at: "a"))
        XCTAssertEqual(actions.count, 1)
        XCTAssertEqual(blockName(actions[0], graph), "b")
        guard case .run(let next) = actions[0] else { return XCTFail() }
        XCTAssertEqual(next.bytes, 128)
        XCTAssertEqual(next.tasksDone, 1)
        XCTAssertEqual(next.flow, 0, "a flow id is the router's to give")
        guard case .finish(let done, .completed) = interpreter.finishedTask(next).first else {
            return XCTFail("b ends the request")
        }
        XCTAssertEqual(done.tasksDone, 2)
    }

    func testBranchesFollowTheirProbabilityAndRepeatPerRequest() throws {
        let (i, graph) = try interpreter(
            """
            name: w
            blocks:
              - {name: pick, branch: {probability: 0.3, then: x, else: y}}
              - {name: x, task: [{cycles: 10}]}
              - {name: y, task: [{cycles: 10}]}
            """)
        var interpreter = i
        var taken = 0
        for request in 0..<2000 {
            let first = interpreter.decided(task(graph, at: "pick", request: UInt64(request)))
            XCTAssertEqual(
                first, interpreter.decided(task(graph, at: "pick", request: UInt64(request))),
                "the same request decides the same")
            if blockName(first[0], graph) == "x" { taken += 1 }
        }
        XCTAssertEqual(Double(taken) / 2000, 0.3, accuracy: 0.04, "2000 Bernoulli(0.3) draws: σ ≈ 0.01")
    }

    func testALoopRunsItsDrawnTripsThenExits() throws {
        let (i, graph) = try interpreter(
            """
            name: w
            blocks:
              - {name: rounds, loop: {body: work, trips: 3, max: 5}, next: after}
              - {name: work, task: [{cycles: 10}], next: rounds}
              - {name: after, task: [{cycles: 10}]}
            """)
        var interpreter = i
        var current = task(graph, at: "rounds")
        var bodies = 0
        while true {
            let actions = interpreter.decided(current)
            XCTAssertEqual(actions.count, 1)
            guard case .run(let next) = actions[0] else { return XCTFail() }
            if graph.blocks[Int(next.taskType.block)].name == "after" {
                XCTAssertTrue(next.loops.isEmpty, "the loop's frame is gone after it")
                break
            }
            bodies += 1
            XCTAssertEqual(next.loops.last?.iteration, UInt32(bodies - 1))
            XCTAssertEqual(next.loops.last?.trips, 3)
            // The body's task block finishes and comes back to the loop.
            guard case .run(let back) = interpreter.finishedTask(next)[0] else { return XCTFail() }
            current = back
            XCTAssertLessThan(bodies, 10, "the loop ends")
        }
        XCTAssertEqual(bodies, 3)
    }

    func testForEachFansOutAndTheJoinWaitsForEveryItem() throws {
        let (i, graph) = try interpreter(
            """
            name: w
            blocks:
              - {name: each, foreach: {count: 4, body: item, join: gather}}
              - {name: item, task: [{cycles: 10}], output_bytes: 8, next: gather}
              - {name: gather, join: all, next: after}
              - {name: after, task: [{cycles: 10}]}
            """)
        var interpreter = i
        let items = interpreter.decided(task(graph, at: "each", bytes: 400))
        XCTAssertEqual(items.count, 4)
        XCTAssertEqual(interpreter.fanoutItems, 4)
        XCTAssertEqual(interpreter.openJoins, 1)
        var arrivals: [TaskMessage] = []
        for (index, action) in items.enumerated() {
            guard case .run(let item) = action else { return XCTFail() }
            XCTAssertEqual(item.bytes, 100, "a for-each splits its input into rows")
            XCTAssertEqual(item.fanouts.last?.item, UInt32(index))
            XCTAssertEqual(item.fanouts.last?.home, 3, "the join's state lives on the cluster that fanned out")
            guard case .run(let atJoin) = interpreter.finishedTask(item)[0] else { return XCTFail() }
            XCTAssertEqual(graph.blocks[Int(atJoin.taskType.block)].name, "gather")
            arrivals.append(atJoin)
        }
        // Items meet in any order; only the last fires the join.
        for item in arrivals.reversed().dropLast() { XCTAssertEqual(interpreter.decided(item), []) }
        let fired = interpreter.decided(arrivals[0])
        XCTAssertEqual(fired.count, 1)
        guard case .run(let after) = fired[0] else { return XCTFail() }
        XCTAssertEqual(graph.blocks[Int(after.taskType.block)].name, "after")
        XCTAssertTrue(after.fanouts.isEmpty)
        XCTAssertEqual(after.bytes, 32, "four items' outputs of 8 bytes")
        XCTAssertEqual(after.tasksDone, 4, "the items' task blocks count for the request")
        XCTAssertEqual(interpreter.openJoins, 0)
    }

    /// Counts and sizes that arrive in another cluster's messages can be anything; at their
    /// largest they saturate instead of trapping this cluster (they trapped: byte counts
    /// multiplied at the join, blocks done and loop iterations counted up).
    func testCountsAndSizesAtTheirLargestSaturateInsteadOfTrapping() throws {
        let (i, graph) = try interpreter(
            """
            name: w
            blocks:
              - {name: each, foreach: {count: 4, body: item, join: gather}}
              - {name: item, loop: {body: step, trips: {uniform: [1, 3]}, max: 3}, next: gather}
              - {name: step, task: [{cycles: 10}], next: item}
              - {name: gather, join: all, next: after}
              - {name: after, task: [{cycles: 10}]}
            """)
        var interpreter = i
        let items = interpreter.decided(task(graph, at: "each", bytes: 400))
        XCTAssertEqual(items.count, 4)
        for (index, action) in items.enumerated() {
            guard case .run(var item) = action else { return XCTFail() }
            // Sent on from "step", in its loop at an absurd iteration, having run 2^32 − 1 blocks,
            // carrying 2^64 − 1 bytes.
            item.taskType = TaskType(workflow: 0, block: graph.index(of: "item")!)
            item.loops = [LoopFrame(block: UInt16(graph.index(of: "item")!), iteration: .max, trips: 2)]
            item.tasksDone = .max
            item.bytes = .max
            let exits = interpreter.decided(item)
            guard case .run(var atJoin) = exits.first else { return XCTFail("the loop exits") }
            XCTAssertTrue(atJoin.loops.isEmpty)
            XCTAssertEqual(graph.blocks[Int(atJoin.taskType.block)].name, "gather")
            atJoin.fanouts = [try XCTUnwrap(item.fanouts.last)]
            let fired = interpreter.decided(atJoin)
            if index < items.count - 1 { XCTAssertEqual(fired, []) }
            guard index == items.count - 1 else { continue }
            guard case .run(let after) = fired.first else { return XCTFail("the last item fires the join") }
            XCTAssertEqual(after.bytes, .max, "four times 2^64 − 1 bytes, saturated")
            XCTAssertEqual(after.tasksDone, .max, "blocks done, saturated")
            guard case .finish(let done, .completed) = interpreter.finishedTask(after).first else { return XCTFail() }
            XCTAssertEqual(done.tasksDone, .max)
        }
        // Transfers of such a size take the horizon (past it, the run stops with an error).
        let mesh = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml").mesh
        XCTAssertEqual(Mesh.serialisation(bytes: .max, bandwidth: 1), Limits.horizon)
        XCTAssertEqual(Mesh.serialisation(bytes: 1001, bandwidth: 10), 101)
        XCTAssertEqual(Mesh.serialisation(bytes: 1000, bandwidth: 10), 100)
        let hops = mesh.transferLatency(from: 0, to: 3, bytes: 0)
        XCTAssertGreaterThan(mesh.transferLatency(from: 0, to: 3, bytes: .max), UInt64.max / 1024)
        XCTAssertLessThanOrEqual(mesh.transferLatency(from: 0, to: 3, bytes: .max), hops + Limits.horizon)
        XCTAssertEqual(
            mesh.transferLatency(from: 0, to: 3, bytes: 0), mesh.transferLatency(from: 0, to: 3, bytes: 1) - 1)
    }

    func testAFailedItemFailsAnAllJoinAndAnAnyJoinWaitsForASuccess() throws {
        let yaml = { (mode: String) in
            """
            name: w
            blocks:
              - {name: both, parallel: {branches: [p, q], join: meet}}
              - {name: p, task: [{cycles: 10}], next: meet}
              - {name: q, task: [{cycles: 10}], next: meet}
              - {name: meet, join: \(mode), next: after}
              - {name: after, task: [{cycles: 10}]}
            """
        }
        for mode in ["all", "any"] {
            let (i, graph) = try interpreter(yaml(mode))
            var interpreter = i
            let branches = interpreter.decided(task(graph, at: "both"))
            guard case .run(let p) = branches[0], case .run(let q) = branches[1] else { return XCTFail() }
            XCTAssertEqual(p.bytes, 64, "parallel branches each carry the whole input")
            // Branch p is rejected somewhere: it travels to its join as failed.
            guard case .failedItem(let failed, let home) = WorkflowInterpreter.fail(p) else { return XCTFail() }
            XCTAssertEqual(home, 3)
            XCTAssertTrue(failed.failed)
            XCTAssertEqual(graph.blocks[Int(failed.taskType.block)].name, "meet")
            XCTAssertEqual(interpreter.decided(failed), [], "\(mode): one item still outstanding")
            guard case .run(let qAtJoin) = interpreter.finishedTask(q)[0] else { return XCTFail() }
            let last = interpreter.decided(qAtJoin)
            if mode == "all" {
                guard case .finish(let request, .rejected) = last.first else {
                    return XCTFail("an all-join with a failed item rejects its request")
                }
                XCTAssertTrue(request.fanouts.isEmpty)
            } else {
                XCTAssertEqual(
                    last.first.flatMap { blockName($0, graph) }, "after",
                    "an any-join continues with the item that succeeded")
            }
            XCTAssertEqual(interpreter.openJoins, 0)
        }
    }

    func testAnExitEndsTheRequestOrTheItem() throws {
        let (i, graph) = try interpreter(
            """
            name: w
            blocks:
              - {name: stop, exit: {probability: 1}, next: more}
              - {name: more, task: [{cycles: 10}]}
            """)
        var interpreter = i
        guard case .finish(_, .completed) = interpreter.decided(task(graph, at: "stop")).first else {
            return XCTFail("an exit ends the request")
        }
        XCTAssertEqual(interpreter.earlyExits, 1)
        // Outside a fan-out a failure rejects the request.
        XCTAssertEqual(WorkflowInterpreter.fail(task(graph, at: "more")), .finish(task(graph, at: "more"), .rejected))
    }

    func testAForEachWithNoItemsGoesStraightPastItsJoin() throws {
        let (i, graph) = try interpreter(
            """
            name: w
            blocks:
              - {name: each, foreach: {count: 0, body: item, join: gather}}
              - {name: item, task: [{cycles: 10}], next: gather}
              - {name: gather, join: all, next: after}
              - {name: after, task: [{cycles: 10}]}
            """)
        var interpreter = i
        let actions = interpreter.decided(task(graph, at: "each"))
        XCTAssertEqual(actions.count, 1)
        XCTAssertEqual(blockName(actions[0], graph), "after")
        XCTAssertEqual(interpreter.openJoins, 0)
    }
}

/// Request parameters: a value the request brings wins (clamped where used); without one, each
/// request draws once, so every block of it sees the same value; a loop's iteration can be added.
final class RequestParameterTests: XCTestCase {
    func testRequestValuesAreDrawnOncePerRequestAndGrowWithTheLoop() throws {
        let graph = try WorkflowLoader.parse(
            """
            name: serve
            request_params: {prompt: {uniform: [10, 1000]}, generated: {uniform: [1, 8]}}
            blocks:
              - {name: prefill, task: [{cycles: 10}], next: decode}
              - {name: decode, loop: {body: step, trips: {request: generated}, max: 8}}
              - {name: step, task: [{cycles: 10}], next: decode}
            """, file: "serve.yaml")
        let library = WorkflowLibrary([graph])
        let streams = RequestStreams(seed: 9, library: library)
        let prefill = TaskMessage(request: 4, taskType: TaskType(workflow: 0, block: 0), bytes: 0, injected: 0)
        var step = TaskMessage(request: 4, taskType: TaskType(workflow: 0, block: 2), bytes: 0, injected: 0)
        step.loops = [LoopFrame(block: 1, iteration: 5, trips: 8)]
        let plain = RequestUse(parameter: "prompt")
        let growing = RequestUse(parameter: "prompt", plusIterationOf: "decode")
        let drawn = try XCTUnwrap(streams.value(of: plain, for: prefill))
        XCTAssertTrue((10...1000).contains(drawn))
        XCTAssertEqual(streams.value(of: plain, for: step), drawn, "one draw per request, whatever the block")
        XCTAssertEqual(streams.value(of: growing, for: step), drawn + 5, "plus the loop's iteration")
        XCTAssertEqual(streams.value(of: growing, for: prefill), drawn, "outside the loop nothing is added")
        var other = prefill
        other.request = 5
        let values = (0..<64).map { request -> Int in
            other.request = UInt64(request)
            return streams.value(of: plain, for: other)!
        }
        XCTAssertGreaterThan(Set(values).count, 1, "different requests draw differently")

        // A value the request brings (from a trace), by the workflow's parameter order (name order).
        var given = step
        given.parameters = [-1, 700]  // generated: drawn; prompt: 700
        XCTAssertEqual(streams.value(of: growing, for: given), 705)
        XCTAssertEqual(graph.requestParameters.map(\.name), ["generated", "prompt"])
        XCTAssertEqual(graph.requestTrips, [1: "generated"])
    }

    func testUndeclaredOrMisusedRequestParametersAreLocatedErrors() {
        func message(_ text: String) -> String {
            do {
                _ = try WorkflowLoader.parse(text, file: "w.yaml", topologies: repositoryRoot + "/Configs/topologies")
                return "accepted"
            } catch { return "\(error)" }
        }
        let undeclared = message(
            """
            name: w
            blocks:
              - {name: a, loop: {body: b, trips: {request: n}, max: 4}}
              - {name: b, task: [{cycles: 1}], next: a}
            """)
        XCTAssertTrue(undeclared.contains("w.yaml:3") && undeclared.contains("declare it under"), undeclared)
        let notALoop = message(
            """
            name: w
            request_params: {n: {uniform: [1, 4]}}
            blocks:
              - {name: a, task: [{model: gpt2-small-decode, params: {ctx: {request: n, plus_iteration_of: a}}}]}
            """)
        XCTAssertTrue(notALoop.contains("not a loop block"), notALoop)
    }
}
