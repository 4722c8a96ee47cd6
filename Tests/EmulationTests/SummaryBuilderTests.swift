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

    /// The cascades equal those of the definition, checked by brute force (every pair of idle
    /// starts compared) on random idle starts over a 3×3 mesh, ties and cycle-0 starts included.
    func testIdleCascadesEqualTheDefinitionOnRandomStarts() throws {
        let mesh = try WaferConfigLoader.parse("mesh: {rows: 3, columns: 3}", file: "m.yaml").mesh
        var rng = SplitMix64(keys: 0xCA5C_ADE5)
        for trial in 0..<200 {
            let window = Cycle(1 + rng.next() % 40)
            let starts: [[Cycle]] = (0..<mesh.count).map { _ in
                (0..<Int(rng.next() % 12)).map { _ in rng.next() % 5 == 0 ? 0 : Cycle(rng.next() % 300) }.sorted()
            }
            XCTAssertEqual(
                Episodes.cascades(starts: starts, mesh: mesh, window: window),
                Self.cascadesByDefinition(starts: starts, mesh: mesh, window: window), "trial \(trial)")
        }
    }

    /// Contagion counts every idle start followed within the window by another on its cluster
    /// (another TBU) or a neighbour, as the definition says (brute force over every pair), on
    /// random starts of four TBUs per cluster with ties; the merged lists equal sorted pairs.
    func testContagionEqualsTheDefinitionOnRandomStarts() throws {
        let mesh = try WaferConfigLoader.parse("mesh: {rows: 2, columns: 3}", file: "m.yaml").mesh
        var rng = SplitMix64(keys: 0xC0_17A6_1011)
        for trial in 0..<100 {
            let window = Cycle(1 + rng.next() % 30)
            let stats: [ClusterStats] = (0..<mesh.count).map { cluster in
                var stats = ClusterStats(cluster: cluster, tbus: 4)
                stats.tbus = (0..<4).map { _ in
                    var tbu = TBUStats()
                    tbu.idleStarts = (0..<Int(rng.next() % 8)).map { _ in Cycle(rng.next() % 200) }.sorted()
                    // Half the TBUs were idle at the end: their open period began after the others.
                    if rng.next() % 2 == 0 { tbu.openIdleStart = (tbu.idleStarts.last ?? 0) + Cycle(rng.next() % 20) }
                    return tbu
                }
                return stats
            }
            let events = stats.flatMap { s in
                s.tbus.enumerated().flatMap { tbu, t in
                    (t.idleStarts + [t.openIdleStart].compactMap { $0 }).map {
                        (cluster: s.cluster, tbu: tbu, time: $0)
                    }
                }
            }
            var following = 0
            for event in events {
                let near = [event.cluster] + mesh.neighbours(of: event.cluster)
                if events.contains(where: { other in
                    near.contains(other.cluster) && !(other.cluster == event.cluster && other.tbu == event.tbu)
                        && other.time <= event.time && event.time - other.time < window
                }) {
                    following += 1
                }
            }
            let contagion = SummaryBuilder.contagion(stats, mesh: mesh, window: window, end: 200)
            XCTAssertEqual(contagion.idlePeriods, UInt64(events.count), "trial \(trial)")
            XCTAssertEqual(
                contagion.observed, events.isEmpty ? 0 : Double(following) / Double(events.count), "trial \(trial)")
            for s in stats {
                let merged = s.idleStartsInOrder()
                let pairs = s.tbus.enumerated().flatMap { tbu, t in
                    (t.idleStarts + [t.openIdleStart].compactMap { $0 }).map { ($0, UInt32(tbu)) }
                }.sorted { $0 < $1 }
                XCTAssertEqual(merged.times, pairs.map(\.0))
                XCTAssertEqual(merged.tbus, pairs.map(\.1))
            }
        }
        // Lists out of order (not from a run) are sorted rather than merged.
        var unordered = ClusterStats(cluster: 0, tbus: 2)
        unordered.tbus = [TBUStats(), TBUStats()]
        unordered.tbus[0].idleStarts = [30, 10]
        unordered.tbus[1].idleStarts = [20]
        unordered.tbus[1].openIdleStart = 5
        XCTAssertEqual(unordered.idleStartsInOrder().times, [5, 10, 20, 30])
        XCTAssertEqual(unordered.idleStartsInOrder().tbus, [1, 0, 1, 0])
    }

    /// Connected components of idle starts after cycle 0, two of them joined when they are on
    /// neighbouring clusters and the later begins within `window` cycles of the earlier.
    static func cascadesByDefinition(starts: [[Cycle]], mesh: Mesh, window: Cycle) -> [Episodes.Cascade] {
        let nodes = starts.enumerated().flatMap { cluster, list in list.filter { $0 > 0 }.map { (cluster, $0) } }
        var component = [Int](repeating: -1, count: nodes.count)
        var cascades: [Episodes.Cascade] = []
        for seed in nodes.indices where component[seed] < 0 {
            var members = [seed]
            component[seed] = seed
            var next = 0
            while next < members.count {
                let (cluster, time) = nodes[members[next]]
                next += 1
                for other in nodes.indices where component[other] < 0 {
                    let (neighbour, otherTime) = nodes[other]
                    let gap = time > otherTime ? time - otherTime : otherTime - time
                    if mesh.neighbours(of: cluster).contains(neighbour), gap < window {
                        component[other] = seed
                        members.append(other)
                    }
                }
            }
            let clusters = Set(members.map { nodes[$0].0 }).sorted()
            guard clusters.count > 1 else { continue }
            let times = members.map { nodes[$0].1 }
            cascades.append(
                Episodes.Cascade(
                    start: times.min()!, end: times.max()!, clusters: clusters, idlePeriods: members.count))
        }
        // The order `cascades` promises: most clusters, then earliest start and end.
        return cascades.sorted { a, b in
            if a.clusters.count != b.clusters.count { return a.clusters.count > b.clusters.count }
            if (a.start, a.end) != (b.start, b.end) { return (a.start, a.end) < (b.start, b.end) }
            if a.clusters != b.clusters { return a.clusters.lexicographicallyPrecedes(b.clusters) }
            return a.idlePeriods < b.idlePeriods
        }
    }
}
