import Foundation
import XCTest

@testable import Emulation

final class SummaryTableTests: XCTestCase {
    /// Clusters that ran another build than the coordinator are named on the printed table (a
    /// user reads it before the JSON); without them no such line appears.
    func testTheTableWarnsOfClustersOfAnotherBuild() throws {
        let (session, results) = try runInProcess()
        var host = SummaryBuilder.host(session: session, results: results, wallSeconds: 1, processes: 5)
        host.build = RunSummary.Build(id: "aaaa", configuration: "release", wireProtocol: 9)
        XCTAssertFalse(SummaryRenderer.table(RunSummary(results: results, host: host)).contains("warning"))
        host.clusterBuilds = [
            RunSummary.ClusterBuild(build: "bbbb", clusters: [1, 3]),
            RunSummary.ClusterBuild(build: nil, clusters: [2]),
        ]
        let table = SummaryRenderer.table(RunSummary(results: results, host: host))
        XCTAssertTrue(table.contains("warning: clusters 1, 3 ran build bbbb, not the coordinator's aaaa"), table)
        XCTAssertTrue(table.contains("warning: clusters 2 ran build unknown, not the coordinator's aaaa"), table)
    }

    /// A pinned wafer's table says where its processes ran, clusters by runs of ids per CPU.
    func testTheTableSaysWhereAPinnedWafersProcessesRan() throws {
        let (session, results) = try runInProcess()
        var host = SummaryBuilder.host(session: session, results: results, wallSeconds: 1, processes: 5)
        XCTAssertFalse(SummaryRenderer.table(RunSummary(results: results, host: host)).contains("pinned"))
        host.cpus = RunSummary.Host.CPUs(coordinator: 1, clusters: [1, 1, 1, 0])
        let table = SummaryRenderer.table(RunSummary(results: results, host: host))
        XCTAssertTrue(
            table.contains("pinned: the coordinator on CPU 1; clusters 0–2 on CPU 1, cluster 3 on CPU 0"), table)
        XCTAssertEqual(
            SummaryRenderer.pinningLine(.init(coordinator: 0, clusters: [0, 1, 0, 1, 1, 0])),
            "pinned: the coordinator on CPU 0; clusters 0, 2, 5 on CPU 0, clusters 1, 3–4 on CPU 1")
    }
}
