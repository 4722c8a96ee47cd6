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

    /// Imbalance episodes from change points: onset above 1, resolved at or below 0.5; one still
    /// open at the end runs to the end; the peak is the highest value inside.
    func testImbalanceEpisodesOneByOne() {
        let points: [(time: Cycle, value: Double)] = [
            (0, 0.2), (100, 1.5), (150, 2.5), (200, 0.8), (300, 0.4), (500, 1.2), (900, 3.0),
        ]
        let episodes = Episodes.imbalance(points, end: 1000)
        XCTAssertEqual(
            episodes,
            [
                Episodes.Imbalance(start: 100, end: 300, peak: 2.5, open: false),
                Episodes.Imbalance(start: 500, end: 1000, peak: 3.0, open: true),
            ])
        XCTAssertEqual(Episodes.imbalance(points, end: 120).map(\.end), [120], "clipped at the end")
    }

    /// Cascades on a 1×4 mesh with a window of 10: idleness spreading 0 → 1 → 2 within the window is
    /// one cascade; cluster 3 idle long after is not part of it; starts at cycle 0 are left out.
    func testIdleCascadesFollowNeighboursWithinTheWindow() throws {
        let mesh = try WaferConfigLoader.parse("mesh: {rows: 1, columns: 4}", file: "m.yaml").mesh
        let cascades = Episodes.cascades(starts: [[0, 100], [105], [112], [0, 200]], mesh: mesh, window: 10)
        XCTAssertEqual(cascades, [Episodes.Cascade(start: 100, end: 112, clusters: [0, 1, 2], idlePeriods: 3)])
        XCTAssertEqual(
            Episodes.cascades(starts: [[100], [111]], mesh: mesh, window: 10), [], "11 cycles apart: too late")
    }
}
