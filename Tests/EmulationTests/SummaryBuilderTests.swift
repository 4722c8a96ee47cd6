import WaferModel
import XCTest

@testable import Emulation

final class SummaryBuilderTests: XCTestCase {
    /// The timeline of a step function keeps its integral whatever the run length, including lengths
    /// whose part boundaries are not representable exactly in floating point (these once stalled).
    func testStepMeansPreserveTheIntegralForAwkwardLengths() {
        for end: Cycle in [1, 7, 19, 20, 21, 999_983, 1_234_567_891, 60_000_000_003] {
            let points: [(Cycle, Double)] = [(0, 1.5), (end / 3, 0.25), (end / 2, 4), (end - end / 7, 0)]
            let means = SummaryBuilder.stepMeans(points, end: end)
            XCTAssertEqual(means.count, 20)
            var expected = 0.0
            for (index, point) in points.enumerated() {
                let next = index + 1 < points.count ? points[index + 1].0 : end
                expected += point.1 * Double(next - point.0)
            }
            var integral = 0.0
            for part in 0..<20 {
                integral += means[part] * Double(end * Cycle(part + 1) / 20 - end * Cycle(part) / 20)
            }
            // Means are rounded to 1/1000, so the integral agrees to that precision.
            XCTAssertEqual(integral, expected, accuracy: Double(end) * 0.001 + 1e-9, "end \(end)")
        }
    }

    func testStepMeansOfAConstantAreThatConstant() {
        XCTAssertEqual(SummaryBuilder.stepMeans([(0, 2)], end: 1_000_003), [Double](repeating: 2, count: 20))
        XCTAssertEqual(SummaryBuilder.stepMeans([(0, 2)], end: 0), [])
    }
}
