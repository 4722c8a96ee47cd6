import Foundation
import Scheduling
import WaferModel
import XCTest

/// A cluster's load keeps its per-type lists out of line (one shared, immutable box): it must
/// still behave as a plain value with four arrays.
final class ClusterLoadTests: XCTestCase {
    let a = TaskType(workflow: 0, block: 1)
    let b = TaskType(workflow: 2, block: 0)

    func full() -> ClusterLoad {
        ClusterLoad(
            cluster: 3, tbus: 4, busyTBUs: 2, queuedTasks: 5, pendingCycles: 900,
            byType: [TaskTypeLoad(taskType: a, queuedTasks: 5, pendingCycles: 900)], configurations: [a, nil, b, nil],
            finished: [TypeRuns(taskType: b, runs: 2, cycles: 40, squares: 800)], running: [a, b],
            started: [RequestBlock(request: 7, taskType: a)])
    }

    func testCopiesAreIndependentValues() {
        let original = full()
        var copy = original
        copy.byType.append(TaskTypeLoad(taskType: b, queuedTasks: 1, pendingCycles: 10))
        copy.running = []
        XCTAssertEqual(original.byType.count, 1, "the original keeps its list")
        XCTAssertEqual(original.running, [a, b])
        XCTAssertNotEqual(copy, original)
        copy.byType.removeLast()
        copy.running = [a, b]
        XCTAssertEqual(copy, original, "equal lists make equal loads, whatever box holds them")
    }

    func testEmptyListsEqualNoLists() {
        var load = ClusterLoad(cluster: 0, tbus: 4)
        XCTAssertEqual(load, ClusterLoad(cluster: 0, tbus: 4, byType: [], finished: [], running: [], started: []))
        load.finished = [TypeRuns(taskType: a, runs: 1, cycles: 1, squares: 1)]
        XCTAssertNotEqual(load, ClusterLoad(cluster: 0, tbus: 4))
        load.finished = []
        XCTAssertEqual(load, ClusterLoad(cluster: 0, tbus: 4))
    }

    func testPublishedKeepsOnlyWhatPlacementReads() {
        let published = LoadViewUpdate.published(full())
        XCTAssertEqual(published.byType, [])
        XCTAssertEqual(published.finished, [])
        XCTAssertEqual(published.running, [])
        XCTAssertEqual(published.started, full().started, "started blocks are the planner's, as before")
        XCTAssertEqual(published.configurations, [a, nil, b, nil])
        XCTAssertEqual(published.pendingCycles, 900)
    }

    /// The JSON form has the same fields as before the lists moved out of line.
    func testCodableRoundTripAndFields() throws {
        let data = try JSONEncoder().encode(full())
        XCTAssertEqual(try JSONDecoder().decode(ClusterLoad.self, from: data), full())
        let fields = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any]).keys
        XCTAssertEqual(
            Set(fields),
            [
                "cluster", "tbus", "busyTBUs", "queuedTasks", "pendingCycles", "byType", "configurations", "finished",
                "running", "started",
            ])
    }
}
