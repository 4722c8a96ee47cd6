import XCTest

@testable import WaferModel

/// Scheduling times thousands of drawn shapes, split across arrays, through shortcuts that skip
/// building the full timing; these hold the shortcuts to the rule they shortcut.
final class SplitTimingTests: XCTestCase {
    let arrays = [
        PEArrayConfig(rows: 32, columns: 32, dataflow: .os, sramBytes: 524_288, bandwidthBytesPerCycle: 64),
        PEArrayConfig(rows: 16, columns: 64, dataflow: .ws, sramBytes: 65_536, bandwidthBytesPerCycle: 16),
        PEArrayConfig(rows: 8, columns: 8, dataflow: .is, sramBytes: 4_096, bandwidthBytesPerCycle: 4),
    ]
    let buffers: [LayerTiming.ClusterBuffer?] = [nil, .init(bytes: 1 << 16, refillBytesPerCycle: 8)]

    func testTotalCyclesAloneEqualTheFullTimings() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<3_000 {
            let (m, n, k) = (
                Int.random(in: 1...3_000, using: &rng), Int.random(in: 1...3_000, using: &rng),
                Int.random(in: 1...3_000, using: &rng)
            )
            for array in arrays {
                for buffer in buffers {
                    XCTAssertEqual(
                        LayerTiming.totalCycles(m: m, n: n, k: k, array: array, buffer: buffer),
                        LayerTiming(.init(name: "g", m: m, n: n, k: k), array: array, buffer: buffer).totalCycles,
                        "\(m)×\(n)×\(k) on \(array)")
                }
            }
        }
    }

    /// The split rule on the layer's lowered GEMMs, as ``TaskOperation/splitCycles`` states it.
    func reference(_ layer: Layer, _ array: PEArrayConfig, _ buffer: LayerTiming.ClusterBuffer?, parts: Int) -> Cycle {
        let gemms = layer.lowered
        let each = gemms.map { LayerTiming($0, array: array, buffer: buffer).totalCycles }
        guard parts > 1 else { return each.reduce(0, +) }
        let merge = Cycle(array.rows + array.columns)
        if gemms.count > 1 {
            let perArray = (gemms.count + parts - 1) / parts
            let share = (each.reduce(0, +) + Cycle(parts) - 1) / Cycle(parts)
            return max(each.sorted(by: >).prefix(perArray).reduce(0, +), share) + merge
        }
        let gemm = gemms[0]
        func slice(m: Int, n: Int) -> Cycle {
            LayerTiming(.init(name: gemm.name, m: m, n: n, k: gemm.k), array: array, buffer: buffer).totalCycles
        }
        let alongN = slice(m: gemm.m, n: (gemm.n + parts - 1) / parts)
        let alongM = slice(m: (gemm.m + parts - 1) / parts, n: gemm.n)
        return max(min(alongN, alongM), (each[0] + Cycle(parts) - 1) / Cycle(parts)) + merge
    }

    /// A layer's total and first fill without its GEMMs equal those of its timed GEMMs, and its
    /// lowered shape is every lowered GEMM's (depthwise convolutions lower to one per channel).
    func testLayerTotalsWithoutGEMMsEqualTheTimedGEMMs() {
        var rng = SplitMix64(seed: 13)
        for layer in randomLayers(&rng, wideDepthwise: true) {
            let lowered = layer.lowered
            let shape = layer.loweredShape
            XCTAssertEqual(shape.count, lowered.count, "\(layer)")
            XCTAssertTrue(lowered.allSatisfy { [$0.m, $0.n, $0.k] == [shape.m, shape.n, shape.k] }, "\(layer)")
            for array in arrays {
                for buffer in buffers {
                    let timed = LayerTiming.of(layer, array: array, buffer: buffer)
                    XCTAssertEqual(
                        LayerTiming.totalCycles(of: layer, array: array, buffer: buffer),
                        timed.reduce(0) { $0 + $1.totalCycles }, "\(layer) on \(array)")
                    XCTAssertEqual(
                        LayerTiming.firstFillCycles(of: layer, array: array, buffer: buffer),
                        timed.first?.fillCycles ?? 0, "\(layer) on \(array)")
                }
            }
        }
    }

    /// GEMMs, convolutions, and depthwise convolutions of one and of several channels (with
    /// `wideDepthwise`, also of up to 300, as in MobileNet).
    private func randomLayers(_ rng: inout SplitMix64, wideDepthwise: Bool = false) -> [Layer] {
        var layers: [Layer] = []
        for _ in 0..<400 {
            layers.append(
                .gemm(
                    name: "g", m: Int.random(in: 1...2_048, using: &rng), n: Int.random(in: 1...2_048, using: &rng),
                    k: Int.random(in: 1...2_048, using: &rng)))
            let size = Int.random(in: 3...64, using: &rng)
            let filter = Int.random(in: 1...min(7, size), using: &rng)
            // Depthwise with one channel lowers to one GEMM; with several, to one per channel.
            var shapes = [(Int.random(in: 1...64, using: &rng), false), (1, true), (5, true)]
            if wideDepthwise { shapes.append((Int.random(in: 2...300, using: &rng), true)) }
            for (channels, depthwise) in shapes {
                layers.append(
                    .conv(
                        name: "c", ifmapHeight: size, ifmapWidth: size + 1, filterHeight: filter,
                        filterWidth: filter, channels: channels,
                        filters: depthwise ? 1 : Int.random(in: 1...96, using: &rng),
                        stride: Int.random(in: 1...2, using: &rng), depthwise: depthwise))
            }
        }
        return layers
    }

    func testSplitCyclesFollowTheRuleForGEMMsAndConvolutions() {
        var rng = SplitMix64(seed: 12)
        let layers = randomLayers(&rng)
        for layer in layers {
            XCTAssertEqual(
                layer.singleGEMM.map { [$0.m, $0.n, $0.k] },
                layer.lowered.count == 1 ? layer.lowered.map { [$0.m, $0.n, $0.k] }.first : nil)
            for array in arrays {
                for buffer in buffers {
                    for parts in 1...5 {
                        XCTAssertEqual(
                            TaskOperation.splitCycles(of: layer, on: array, buffer: buffer, parts: parts),
                            reference(layer, array, buffer, parts: parts), "\(layer) on \(parts) arrays")
                    }
                }
            }
        }
    }
}
