import Foundation
import WaferModel
import XCTest

@testable import Emulation
@testable import Functional

let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// Functional mode decides on the data; timing mode draws from the declared distributions. For
/// video-analytics the scene generator and the declared distributions describe the same scenes, so
/// the control-flow frequencies must agree.
///
/// Tolerance: over 300 frames in each mode (spanning both phases), the per-frame means of the
/// for-each count (classifier runs) and of the person branch (pose runs) differ by at most 4
/// standard errors of the difference.
final class ModeAgreementTests: XCTestCase {
    func perRequestRuns(functional: Bool) throws -> (classifier: [Double], pose: [Double]) {
        var config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/small-2x2.yaml")
        config.cluster.queueCapacity = 1_000_000
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let session = WaferSession.inProcess(
            config: config, library: library, functional: functional ? try BLASExecutor() : nil)
        final class Counter: TraceSink {
            var runs: [UInt64: [String: Int]] = [:]
            let graph: WorkflowGraph
            init(_ graph: WorkflowGraph) { self.graph = graph }
            func append(window lists: [[TimedTraceRecord]]) throws {
                for case .slice(_, _, _, _, .task, let type, let request) in lists.joined().map(\.record) {
                    runs[request, default: [:]][graph.blocks[Int(type.block)].name, default: 0] += 1
                }
            }
        }
        let counter = Counter(library[library.index(of: "video-analytics")!])
        session.traceSink = counter
        // One frame every 133,333 cycles: 300 frames span 40 ms, one quiet and one crowded phase.
        try session.inject(
            Injection(workflow: "video-analytics", count: 300, arrival: .periodic(period: 133_333, jitter: 0), seed: 3))
        try session.runUntilIdle()
        XCTAssertEqual(session.coordinator.completedCount, 300)
        let requests = session.coordinator.records.map(\.outcome.request).sorted()
        return (
            requests.map { Double(counter.runs[$0]?["classifier"] ?? 0) },
            requests.map { Double(counter.runs[$0]?["pose"] ?? 0) }
        )
    }

    func testTimingAndFunctionalModesAgreeOnControlFlow() throws {
        let timing = try perRequestRuns(functional: false)
        let functional = try perRequestRuns(functional: true)
        func meanAndError(_ x: [Double]) -> (Double, Double) {
            let n = Double(x.count)
            let mean = x.reduce(0, +) / n
            let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
            return (mean, variance / n)
        }
        for (name, t, f) in [
            ("classifier", timing.classifier, functional.classifier), ("pose", timing.pose, functional.pose),
        ] {
            let (mt, et) = meanAndError(t)
            let (mf, ef) = meanAndError(f)
            XCTAssertLessThanOrEqual(
                abs(mt - mf), 4 * (et + ef).squareRoot(), "\(name) per frame: timing \(mt), functional \(mf)")
            XCTAssertGreaterThan(mf, 0.5, "the functional run found objects at all")
        }
        XCTAssertNotEqual(timing.classifier, functional.classifier, "the two modes decide independently")
    }
}
