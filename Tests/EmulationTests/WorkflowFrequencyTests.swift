import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// Counts the runs of every block per request from the trace (task and control slices).
final class BlockRunCounter: TraceSink {
    var runs: [UInt64: [UInt16: Int]] = [:]

    func append(window lists: [[TimedTraceRecord]]) throws {
        for case .slice(_, _, _, _, let kind, let type, let request) in lists.joined().map(\.record)
        where kind == .task || kind == .control {
            runs[request, default: [:]][type.block, default: 0] += 1
        }
    }
}

/// The analytical expected runs of `octopus workflows show` against long timing-mode runs.
///
/// Tolerance: for every block, the mean over requests of (observed runs − expected runs in the
/// request's phase) lies within 4 standard errors of 0 (the standard error estimated from the same
/// differences); a block whose runs never vary must match exactly. Each workflow runs alone on the
/// small wafer with unbounded queues (so no request is cut short by a rejection).
final class WorkflowFrequencyTests: XCTestCase {
    func check(_ name: String, count: Int, period: Cycle, file: StaticString = #filePath, line: UInt = #line) throws {
        var config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        config.cluster.queueCapacity = 1_000_000
        config.cluster.loadSignalPeriod = 100_000_000  // load signals do not change control flow
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let workflow = library.index(of: name)!
        let graph = library[workflow]
        let session = WaferSession.inProcess(config: config, library: library)
        let counter = BlockRunCounter()
        session.traceSink = counter
        try session.inject(
            Injection(workflow: name, count: count, arrival: .periodic(period: period, jitter: period / 2), seed: 5))
        try session.runUntilIdle()
        let outcomes = session.coordinator.records.map(\.outcome)
        XCTAssertEqual(outcomes.count, count, file: file, line: line)
        XCTAssertTrue(outcomes.allSatisfy { $0.status == .completed }, file: file, line: line)

        let analysis = WorkflowAnalysis(graph)
        var phasesSeen = Set<Int>()
        for (index, block) in graph.blocks.enumerated() {
            let differences = outcomes.map { outcome -> Double in
                let phase = graph.phases.index(at: outcome.injected)
                phasesSeen.insert(phase)
                let observed = Double(counter.runs[outcome.request]?[UInt16(index)] ?? 0)
                return observed - analysis.visits[phase][index]
            }
            let n = Double(differences.count)
            let mean = differences.reduce(0, +) / n
            let variance = differences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
            let tolerance = 4 * (variance / n).squareRoot() + 1e-9
            XCTAssertLessThanOrEqual(
                abs(mean), tolerance,
                "\(name).\(block.name): observed − expected runs per request = \(mean) (tolerance \(tolerance))",
                file: file, line: line)
        }
        XCTAssertEqual(
            phasesSeen.count, graph.phases.phases.count, "the run covers every phase", file: file, line: line)
    }

    func testVideoAnalytics() throws { try check("video-analytics", count: 600, period: 100_000) }
    func testLLMAgent() throws { try check("llm-agent", count: 160, period: 700_000) }
    func testRecsys() throws { try check("recsys", count: 1200, period: 60_000) }
    func testDrivingPerception() throws { try check("driving-perception", count: 120, period: 4_000_000) }
    func testARAssistant() throws {
        try check("ar-voice", count: 600, period: 50_000)
        try check("ar-hands", count: 600, period: 50_000)
        try check("ar-gaze", count: 100, period: 50_000)
    }
}
