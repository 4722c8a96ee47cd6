import XCTest

@testable import Runtime

final class WaitTextTests: XCTestCase {
    /// Waits print as given: whole seconds without a fraction, fractions to the millisecond, and a
    /// wait shorter than a millisecond never as "0 s".
    func testWaitsPrintAsGiven() {
        XCTAssertEqual(WaitText.describe(30), "30 s")
        XCTAssertEqual(WaitText.describe(0), "0 s")
        XCTAssertEqual(WaitText.describe(1_000_000), "1000000 s")
        XCTAssertEqual(WaitText.describe(0.2), "0.2 s")
        XCTAssertEqual(WaitText.describe(1.25), "1.25 s")
        XCTAssertEqual(WaitText.describe(2.5004), "2.5 s")
        XCTAssertEqual(WaitText.describe(0.0004), "0.0004 s")
        XCTAssertEqual(WaitText.describe(.infinity), "inf s")
    }
}
