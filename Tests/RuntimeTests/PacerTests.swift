import XCTest

@testable import Runtime

final class PacerTests: XCTestCase {
    func testThePaceSchedulesVirtualTimeAgainstWallTimeAndPausesWhenIdle() {
        // 1,000 MHz at ratio 0.5: 1,000 cycles (1 virtual µs) every 2 wall µs.
        var pacer = Pacer(ratio: 0.5, clockMHz: 1000)
        XCTAssertEqual(pacer.wait(before: 5000, wall: 10), 0, "no stretch started: nothing to wait for")
        pacer.resume(at: 1000, wall: 10)
        XCTAssertEqual(pacer.wait(before: 3000, wall: 10), 4e-6, accuracy: 1e-12)
        XCTAssertEqual(pacer.wait(before: 3000, wall: 10.001), 0, "late: no wait")
        pacer.resume(at: 9999, wall: 11)  // already running: the stretch keeps its origin
        XCTAssertEqual(pacer.wait(before: 3000, wall: 10), 4e-6, accuracy: 1e-12)
        XCTAssertEqual(pacer.reached(at: 3000, wall: 10 + 4e-6) ?? 0, 0.5, accuracy: 1e-9)
        // Idle for 100 s: the pause does not count, and the next stretch starts afresh.
        pacer.pause(at: 3000, wall: 10 + 4e-6)
        XCTAssertEqual(pacer.wait(before: 1_000_000, wall: 20), 0, "paused")
        pacer.resume(at: 3000, wall: 110)
        XCTAssertEqual(pacer.wait(before: 4000, wall: 110), 2e-6, accuracy: 1e-12)
        XCTAssertEqual(pacer.reached(at: 5000, wall: 110 + 4e-6) ?? 0, 0.5, accuracy: 1e-9)
    }
}
