import XCTest
@testable import WaferModel

final class LayerTimingTests: XCTestCase {
    func array(_ rows: Int, _ columns: Int, _ dataflow: Dataflow, sram: Int = 1 << 20, bandwidth: Int = 1 << 20) -> PEArrayConfig {
        PEArrayConfig(rows: rows, columns: columns, dataflow: dataflow, sramBytes: sram, bandwidthBytesPerCycle: bandwidth)
    }

    func testConvolutionLowersLikeSCALESim() {
        // ResNet-50 conv1: 224×224×3, 7×7, 64 filters, stride 2: ⌈(224 − 7 + 2)/2⌉ = 110 per side
        // (SCALE-Sim's formula, no padding), window 7·7·3 = 147.
        let conv1 = Layer.conv(name: "conv1", ifmapHeight: 224, ifmapWidth: 224, filterHeight: 7, filterWidth: 7,
                               channels: 3, filters: 64, stride: 2, depthwise: false)
        XCTAssertEqual(conv1.lowered, [Layer.LoweredGEMM(name: "conv1", m: 110 * 110, n: 64, k: 147)])
        let dw = Layer.conv(name: "DP1", ifmapHeight: 8, ifmapWidth: 8, filterHeight: 3, filterWidth: 3,
                            channels: 4, filters: 1, stride: 1, depthwise: true)
        XCTAssertEqual(dw.lowered.count, 4, "one single-channel GEMM per channel")
        XCTAssertEqual(dw.lowered[3], Layer.LoweredGEMM(name: "DP1Channel_3", m: 36, n: 1, k: 9))
        XCTAssertNotNil(Layer.conv(name: "x", ifmapHeight: 2, ifmapWidth: 2, filterHeight: 3, filterWidth: 1,
                                   channels: 1, filters: 1, stride: 1, depthwise: false).problem)
    }

    func testAmpleBandwidthLeavesOnlyTheFill() {
        let t = LayerTiming(Layer.LoweredGEMM(name: "g", m: 5, n: 9, k: 8), array: array(4, 4, .os))
        XCTAssertEqual(t.computeCycles, 83)
        XCTAssertEqual(t.stallCycles, 0)
        XCTAssertEqual(t.fillCycles, 1, "a few bytes over a wide link")
        XCTAssertEqual(t.totalCycles, 84)
    }

    func testNarrowLinkStalls() {
        // OS 4×4, M = N = K = 8, 1 B/cycle, everything fits: traffic = 64 + 64 + 64 = 192 bytes.
        // 4 folds × (8 + 6) − 1 = 55 compute cycles; fill = (64 + 64) / 4 folds = 32 cycles;
        // stall = 192 − 32 − 55 = 105.
        let t = LayerTiming(Layer.LoweredGEMM(name: "g", m: 8, n: 8, k: 8), array: array(4, 4, .os, bandwidth: 1))
        XCTAssertEqual(t.trafficBytes, 192)
        XCTAssertEqual(t.computeCycles, 55)
        XCTAssertEqual(t.fillCycles, 32)
        XCTAssertEqual(t.stallCycles, 105)
        XCTAssertEqual(t.totalCycles, 192)
    }

    func testSmallSRAMRefetchesOperands() {
        // 96-byte SRAM: 16 bytes usable per operand (a third, halved), so the 64-byte ifmap is
        // fetched once per column fold (2) and the filter once per row fold (2): 128 + 128 + 64.
        let t = LayerTiming(Layer.LoweredGEMM(name: "g", m: 8, n: 8, k: 8), array: array(4, 4, .os, sram: 96, bandwidth: 1))
        XCTAssertEqual(t.trafficBytes, 320)
    }

    func testWeightStationaryPartialSums() {
        // WS, K = 8 on 4 rows: 2 row folds, so 8×8 partial sums are written, read back and written: 3×64.
        let t = LayerTiming(Layer.LoweredGEMM(name: "g", m: 8, n: 8, k: 8), array: array(4, 4, .ws, bandwidth: 1))
        XCTAssertEqual(t.trafficBytes, 64 + 64 + 3 * 64)
    }

    func testSplittingIsNeverFasterThanPerfectSpeedup() {
        for dataflow in Dataflow.allCases {
            let a = array(8, 8, dataflow)
            for (m, n, k) in [(1, 1, 1), (64, 64, 64), (300, 17, 40), (5, 1000, 9)] {
                let one = SystolicTiming.gemmCycles(m: m, n: n, k: k, array: a)
                XCTAssertEqual(SystolicTiming.splitGemmCycles(m: m, n: n, k: k, array: a, parts: 1, along: .n), one)
                for parts in 2...8 {
                    for dimension in SystolicTiming.SplitDimension.allCases {
                        let split = SystolicTiming.splitGemmCycles(m: m, n: n, k: k, array: a, parts: parts, along: dimension)
                        XCTAssertGreaterThanOrEqual(split * Cycle(parts), one, "\(dataflow) \(m)×\(n)×\(k) on \(parts) along \(dimension)")
                    }
                }
            }
        }
    }

    func testSplittingALargeGEMMHelps() {
        let a = array(16, 16, .os)
        let one = SystolicTiming.gemmCycles(m: 64, n: 256, k: 128, array: a)
        let four = SystolicTiming.splitGemmCycles(m: 64, n: 256, k: 128, array: a, parts: 4, along: .n)
        XCTAssertLessThan(four, one / 3)
    }

    func testWorkflowConvOperations() throws {
        let graph = try WorkflowLoader.parse("""
        name: w
        blocks:
          - name: a
            task:
              - {conv: [32, 32, 3, 3, 16, 32], stride: 2, name: c1}
              - {depthwise: [15, 15, 3, 3, 32, 1], name: dw}
        """, file: "w.yaml")
        guard case .task(let block) = graph.blocks[0].kind, case .layer(let c1) = block.operations[0], case .layer(let dw) = block.operations[1] else {
            return XCTFail()
        }
        // ⌈(32 − 3 + 2)/2⌉ = 16 per side.
        XCTAssertEqual(c1.lowered.first, Layer.LoweredGEMM(name: "c1", m: 16 * 16, n: 32, k: 144))
        XCTAssertEqual(dw.lowered.count, 32)
        XCTAssertThrowsError(try WorkflowLoader.parse("name: w\nblocks:\n  - {name: a, task: [{conv: [2, 2, 3, 3, 1, 1]}]}", file: "w.yaml")) { error in
            XCTAssertTrue((error as! ConfigError).message.contains("larger than"), "\(error)")
        }
        XCTAssertThrowsError(try WorkflowLoader.parse("name: w\nblocks:\n  - {name: a, task: [{gemm: [2, 2, 3], stride: 2}]}", file: "w.yaml"))
    }
}
