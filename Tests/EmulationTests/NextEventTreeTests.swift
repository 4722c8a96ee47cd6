import WaferModel
import XCTest

@testable import Emulation

/// The one-process engine's choice of the next participant: the earliest next event, then the
/// lowest participant — checked against a linear scan through random updates.
final class NextEventTreeTests: XCTestCase {
    func testTheWinnerIsTheEarliestThenLowestParticipant() {
        var random = SplitMix64(seed: 11)
        for count in [1, 2, 3, 17, 65, 257] {
            var tree = NextEventTree(count: count)
            var times = [Cycle](repeating: .never, count: count)
            XCTAssertEqual(tree.first.time, .never, "nothing pending at first")
            for _ in 0..<2_000 {
                let participant = Int(random.next() % UInt64(count))
                // Few distinct times, so ties are common; some participants have nothing pending.
                let time: Cycle = random.next() % 5 == 0 ? .never : random.next() % 8
                tree.update(participant, to: time)
                times[participant] = time
                let expected = times.indices.min { (times[$0], $0) < (times[$1], $1) }!
                if times[expected] == .never {
                    XCTAssertEqual(tree.first.time, .never)
                } else {
                    XCTAssertEqual(tree.first.participant, expected, "\(count) participants")
                    XCTAssertEqual(tree.first.time, times[expected])
                }
            }
        }
    }
}
