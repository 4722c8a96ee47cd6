import XCTest

@testable import WaferModel

final class ArrivalGeneratorTests: XCTestCase {
    /// With jitter far beyond the period arrivals come out of request order; drawn one at a time
    /// they must still be exactly the sorted list of every request's time.
    func testJitteredPeriodicArrivalsComeOutSortedAndExact() throws {
        let seed = SplitMix64(seed: 42)
        var reference = seed
        let expected = (0..<5000).map { i in Cycle(7 + i * 10) + reference.next() % 1000 }.sorted()
        var generator = try ArrivalGenerator(.periodic(period: 10, jitter: 1000), count: 5000, start: 7, rng: seed)
        var drawn: [Cycle] = []
        while let time = try generator.next() { drawn.append(time) }
        XCTAssertEqual(drawn, expected)
        XCTAssertTrue(generator.isFinished)
        XCTAssertNil(try generator.next())
    }

    /// Every process hands out exactly `count` arrivals, in non-decreasing order.
    func testEveryProcessHandsOutCountArrivalsInOrder() throws {
        let processes: [ArrivalProcess] = [
            .periodic(period: 100, jitter: 0), .poisson(meanInterval: 50), .burst,
            .onOff(meanInterval: 20, on: 500, off: 2000),
            .markov([.init(meanInterval: 10, meanDwell: 1000), .init(meanInterval: 300, meanDwell: 5000)]),
            .replay([0, 5, 40]),
        ]
        for process in processes {
            var rng = SplitMix64(seed: 9)
            let times = try process.arrivals(count: 1000, start: 3, rng: &rng)
            XCTAssertEqual(times.count, 1000, "\(process)")
            XCTAssertEqual(times, times.sorted(), "\(process)")
            XCTAssertGreaterThanOrEqual(times.first ?? 0, 3)
        }
    }
}
