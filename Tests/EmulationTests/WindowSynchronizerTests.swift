import WaferModel
import XCTest

@testable import Emulation

final class WindowSynchronizerTests: XCTestCase {
    func synchronizer(_ mode: SyncMode = .exact, window: Cycle = 1000) throws -> WindowSynchronizer {
        var config = try WaferConfigLoader.parse(
            "mesh: {rows: 1, columns: 2}\nlinks: {intra_die: {hop_latency_cycles: 50}, control_latency_cycles: 80}",
            file: "s.yaml")
        config.sync = SyncConfig(mode: mode, window: window)
        return WindowSynchronizer(config: config)
    }

    func testSkipsToTheEarliestEventAndEndsAtPromisePlusLookahead() throws {
        var s = try synchronizer()
        XCTAssertEqual(s.lookahead, 50)
        let plan = s.plan([
            ParticipantTiming(nextEvent: 5000, earliestOutput: 9000),
            ParticipantTiming(nextEvent: 7000, earliestOutput: 7500),
            ParticipantTiming(),
        ])
        XCTAssertEqual(plan, WindowPlan(index: 1, start: 5000, end: 7550))
        XCTAssertEqual(s.skippedCycles, 5000)
        XCTAssertEqual(s.now, 7550)
    }

    func testMessagesInFlightBoundStartAndPromise() throws {
        var s = try synchronizer()
        let plan = s.plan([
            ParticipantTiming(nextEvent: 5000, earliestOutput: 9000),
            ParticipantTiming(nextEvent: .never, earliestOutput: .never, earliestInbound: 4000),
        ])
        // The message delivered at 4000 may cause a send at 4000.
        XCTAssertEqual(plan, WindowPlan(index: 1, start: 4000, end: 4050))
    }

    func testIdleWaferPlansNothing() throws {
        var s = try synchronizer()
        XCTAssertNil(s.plan([ParticipantTiming(), ParticipantTiming()]))
        XCTAssertEqual(s.windows, 0)
    }

    func testNobodyCanSendMeansOneUnboundedWindow() throws {
        var s = try synchronizer()
        let plan = s.plan([ParticipantTiming(nextEvent: 10, earliestOutput: .never)])
        XCTAssertEqual(plan?.end, .never)
    }

    func testQuantumWindowsAreAtLeastTheQuantum() throws {
        var s = try synchronizer(.quantum, window: 1000)
        XCTAssertEqual(
            s.plan([ParticipantTiming(nextEvent: 100, earliestOutput: 100)]),
            WindowPlan(index: 1, start: 100, end: 1100))
        // A long promise still extends the window beyond the quantum.
        XCTAssertEqual(
            s.plan([ParticipantTiming(nextEvent: 2000, earliestOutput: 9000)]),
            WindowPlan(index: 2, start: 2000, end: 9050))
    }

    func testEventKeyOrder() {
        let keys = [
            EventKey(time: 5, rank: 0, tie: 9), EventKey(time: 4, rank: 9, tie: 0), EventKey(time: 5, rank: 0, tie: 1),
            EventKey(time: 5, rank: 2, tie: 0),
        ]
        XCTAssertEqual(keys.sorted(), [keys[1], keys[2], keys[0], keys[3]])
        var queue = EventQueue<Int>()
        for (i, k) in keys.enumerated() { queue.insert(i, key: k) }
        XCTAssertEqual(queue.nextTime, 4)
        var popped: [Int] = []
        while let (_, e) = queue.popIfBefore(5) { popped.append(e) }
        XCTAssertEqual(popped, [1], "events at the window end belong to the next window")
    }
}
