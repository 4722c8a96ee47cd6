import XCTest
@testable import Emulation
import WaferModel

final class SessionSmokeTests: XCTestCase {
    func testDefaultRunCompletes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let config = try WaferConfigLoader.load(path: root + "/Configs/wafers/default.yaml")
        let library = try WorkflowLibrary.load(directory: root + "/Configs/workflows")
        let injections = try WorkloadLoader.load(path: root + "/Configs/workloads/default.yaml", known: Set(library.names))
        let session = WaferSession.inProcess(config: config, library: library)
        for i in injections { try session.inject(i) }
        try session.runUntilIdle()
        let stats = try session.transport.collectStats(end: session.now)
        let results = SummaryBuilder.results(session: session, stats: stats, placement: "least-loaded", dispatch: "fifo")
        print(SummaryRenderer.table(RunSummary(results: results, host: nil)))
        XCTAssertEqual(results.overall.completed + results.overall.rejected, 600)
    }
}
