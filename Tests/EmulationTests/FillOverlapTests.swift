import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// `cluster.overlap_fill` (docs/configuration.md, "Fill overlap"): a block that waited in the
/// queue while its TBU ran the previous block of the same type starts with its first GEMM's fill
/// already loaded — at most the fill, at most the time the two overlapped.
final class FillOverlapTests: XCTestCase {
    let layer = Layer.gemm(name: "fc", m: 64, n: 32, k: 48)

    /// One cluster with one TBU (reconfiguration 100 cycles) and a one-layer workflow.
    func makeEngine(overlap: Bool) throws -> (engine: ClusterEngine, fill: Cycle, duration: Cycle) {
        let config = try WaferConfigLoader.parse(
            """
            mesh: {rows: 1, columns: 1}
            cluster: {tbus: 1, reconfiguration_cycles: 100, pe_array: {rows: 16, columns: 16, dataflow: ws}, overlap_fill: \(overlap)}
            links: {control_latency_cycles: 10}
            """, file: "c.yaml")
        XCTAssertEqual(config.cluster.overlapsFill, overlap)
        let library = WorkflowLibrary([
            try WorkflowLoader.parse(
                """
                name: one
                blocks:
                  - {name: fc, task: [{gemm: [64, 32, 48]}], output_bytes: 8}
                """, file: "w.yaml")
        ])
        let timing = LayerTiming.of(layer, array: config.cluster.peArray, buffer: config.cluster.buffer)
        let engine = ClusterEngine(id: 0, config: config, library: library, scheduler: .standard("least-loaded"))
        return (engine, try XCTUnwrap(timing.first).fillCycles, timing.reduce(0) { $0 + $1.totalCycles })
    }

    func task(_ request: UInt64, at time: Cycle) -> Envelope {
        Envelope(
            source: .coordinator, destination: .cluster(0), sendTime: time - 10, arrival: time, sequence: request + 1,
            message: .task(
                TaskMessage(request: request, taskType: TaskType(workflow: 0, block: 0), bytes: 0, injected: time - 10))
        )
    }

    /// Runs requests arriving at `times` and returns when each finished.
    func finishes(_ times: [Cycle], overlap: Bool) throws -> (
        finished: [Cycle], stats: ClusterStats, fill: Cycle, duration: Cycle
    ) {
        let (engine, fill, duration) = try makeEngine(overlap: overlap)
        engine.receive(times.enumerated().map { task(UInt64($0.offset), at: $0.element) })
        let output = engine.runWindow(end: 1_000_000)
        let finished = output.envelopes.compactMap { envelope -> Cycle? in
            if case .outcome(let o) = envelope.message { return o.finished } else { return nil }
        }
        // One long window: its own load signals would land inside it, so causality is checked
        // across processes instead (RunCommandTests).
        let stats = engine.finalStats(end: 1_000_000)
        return (finished, stats, fill, duration)
    }

    func testAQueuedBlockStartsWithItsFillLoaded() throws {
        let off = try finishes([100, 100], overlap: false)
        let on = try finishes([100, 100], overlap: true)
        let (fill, duration) = (on.fill, on.duration)
        XCTAssertGreaterThan(fill, 0)
        XCTAssertLessThan(fill, duration)
        // Both arrive at 100; the first reconfigures (100) and runs; the second waited the whole time.
        XCTAssertEqual(off.finished, [200 + duration, 200 + 2 * duration])
        XCTAssertEqual(on.finished, [200 + duration, 200 + 2 * duration - fill])
        XCTAssertEqual(on.stats.fillOverlapBlocks, 1)
        XCTAssertEqual(on.stats.fillOverlapCycles, UInt64(fill))
        XCTAssertEqual(off.stats.fillOverlapBlocks, 0)
        XCTAssertEqual(on.stats.tbus[0].busyCycles, off.stats.tbus[0].busyCycles - fill)
    }

    func testTheSavingIsAtMostTheOverlap() throws {
        let (_, fill, duration) = try makeEngine(overlap: true)
        let overlap: Cycle = fill / 2
        XCTAssertGreaterThan(overlap, 0)
        // The second arrives `overlap` cycles before the first ends: only that much was loaded ahead.
        let on = try finishes([100, 200 + duration - overlap], overlap: true)
        XCTAssertEqual(on.finished, [200 + duration, 200 + 2 * duration - overlap])
        XCTAssertEqual(on.stats.fillOverlapCycles, UInt64(overlap))
    }

    func testABlockArrivingAtAnIdleTBUGainsNothing() throws {
        let (_, _, duration) = try makeEngine(overlap: true)
        let on = try finishes([100, 300 + duration], overlap: true)
        XCTAssertEqual(on.finished, [200 + duration, 300 + 2 * duration])
        XCTAssertEqual(on.stats.fillOverlapBlocks, 0)
    }
}
