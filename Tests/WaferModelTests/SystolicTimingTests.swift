import XCTest

@testable import WaferModel

final class SystolicTimingTests: XCTestCase {
    let os = PEArrayConfig(rows: 4, columns: 4, dataflow: .os, sramBytes: 1024)

    // Hand derivations use SCALE-Sim's fold length: OS T + R + C − 2; WS/IS T + 2R + C − 2; the
    // reported total is the sum over folds minus one. Each case was also run through SCALE-Sim 3.0.0.

    func testSmallestLayer() {
        // 1×1×1 on 4×4 OS: one fold of 1 + 4 + 4 − 2 = 7 cycles, reported as 6.
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 1, n: 1, k: 1, array: os), 6)
        // WS adds the weight load (R = 4): 1 + 8 + 4 − 2 = 11, reported as 10.
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 1, n: 1, k: 1, array: array(4, 4, .ws)), 10)
    }

    func testOneFold() {
        // 4×4 outputs fill the 4×4 array exactly once; T = K = 8: 8 + 4 + 4 − 2 = 14, reported 13.
        XCTAssertEqual(SystolicTiming.folds(m: 4, n: 4, k: 8, array: os), 1)
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 4, n: 4, k: 8, array: os), 13)
    }

    func testPartialFoldsCountWhole() {
        // M = 5 needs ⌈5/4⌉ = 2 row folds, N = 9 needs 3 column folds: 6 folds × 14 − 1 = 83.
        XCTAssertEqual(SystolicTiming.folds(m: 5, n: 9, k: 8, array: os), 6)
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 5, n: 9, k: 8, array: os), 83)
        // Partial folds in one dimension only: M = 16 (4 row folds), N = 4, K = 3: 4 × 9 − 1 = 35.
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 16, n: 4, k: 3, array: os), 35)
    }

    func testDataflowsMapDimensionsDifferently() {
        // WS: Sr = K = 8 (2 folds), Sc = N = 4 (1 fold), T = M = 4: 2 × (4 + 8 + 4 − 2) − 1 = 27.
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 4, n: 4, k: 8, array: array(4, 4, .ws)), 27)
        // IS: Sr = K = 8 (2), Sc = M = 4 (1), T = N = 4: the same 27.
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 4, n: 4, k: 8, array: array(4, 4, .is)), 27)
        // IS with M = 9: Sc = 9 needs 3 column folds: 6 × 14 − 1 = 83.
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 9, n: 4, k: 8, array: array(4, 4, .is)), 83)
    }

    func testNonSquareArrays() {
        // 8 rows × 4 columns, OS, M = 9 (2 row folds), N = 5 (2 column folds), K = 3:
        // 4 folds × (3 + 8 + 4 − 2 = 13) − 1 = 51.
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 9, n: 5, k: 3, array: array(8, 4, .os)), 51)
        // 3 × 5, WS, M = 7, N = 6 (2 column folds), K = 4 (2 row folds): 4 × (7 + 6 + 5 − 2 = 16) − 1 = 63.
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 7, n: 6, k: 4, array: array(3, 5, .ws)), 63)
    }

    func testUtilisationAsSCALESimReportsIt() {
        // 4×4×8 on 4×4 OS, 13 cycles: overall 128 MACs / (13 · 16) = 61.54 %; every PE mapped;
        // compute 8 / 14 = 57.14 % (SCALE-Sim 3.0.0 printed 61.538…, 100.0, 57.142…).
        let u = SystolicTiming.utilisation(m: 4, n: 4, k: 8, array: os, totalCycles: 13)
        XCTAssertEqual(u.overall, 128.0 / 208.0, accuracy: 1e-12)
        XCTAssertEqual(u.mapping, 1, accuracy: 1e-12)
        XCTAssertEqual(u.compute, 8.0 / 14.0, accuracy: 1e-12)
        // 5×9×8: folds use 4·4, 4·4, 4·1, 1·4, 1·4, 1·1 PEs: mean 45/96 = 46.875 %.
        XCTAssertEqual(
            SystolicTiming.utilisation(m: 5, n: 9, k: 8, array: os, totalCycles: 83).mapping, 0.46875, accuracy: 1e-12)
    }

    func array(_ rows: Int, _ columns: Int, _ dataflow: Dataflow) -> PEArrayConfig {
        PEArrayConfig(rows: rows, columns: columns, dataflow: dataflow, sramBytes: 1024)
    }

    func testUtilisationNeverExceedsOne() {
        for dataflow in Dataflow.allCases {
            let a = array(5, 3, dataflow)
            for (m, n, k) in [(1, 1, 1), (5, 3, 9), (17, 4, 2), (40, 40, 40), (1, 100, 7)] {
                let total = SystolicTiming.gemmCycles(m: m, n: n, k: k, array: a)
                let u = SystolicTiming.utilisation(m: m, n: n, k: k, array: a, totalCycles: total)
                for value in [u.overall, u.mapping, u.compute] {
                    XCTAssertGreaterThan(value, 0)
                    XCTAssertLessThanOrEqual(value, 1, "\(dataflow) \(m)×\(n)×\(k)")
                }
            }
        }
    }

    func testCyclesNeverDecreaseWhenADimensionGrows() {
        for dataflow in Dataflow.allCases {
            let array = PEArrayConfig(rows: 8, columns: 4, dataflow: dataflow, sramBytes: 1)
            for m in stride(from: 1, through: 40, by: 3) {
                for n in stride(from: 1, through: 40, by: 5) {
                    for k in stride(from: 1, through: 40, by: 7) {
                        let base = SystolicTiming.gemmCycles(m: m, n: n, k: k, array: array)
                        XCTAssertGreaterThanOrEqual(SystolicTiming.gemmCycles(m: m + 1, n: n, k: k, array: array), base)
                        XCTAssertGreaterThanOrEqual(SystolicTiming.gemmCycles(m: m, n: n + 1, k: k, array: array), base)
                        XCTAssertGreaterThanOrEqual(SystolicTiming.gemmCycles(m: m, n: n, k: k + 1, array: array), base)
                    }
                }
            }
        }
    }

    func testVectorOperations() {
        // 4×4: L = 16 lanes, P = 6.
        XCTAssertEqual(VectorOperation.elementwise(elements: 33).cycles(on: os), 3 + 6)
        // softmax 2×16: 4 passes of ⌈32/16⌉ = 2, reductions 2·⌈log₂ 16⌉ = 8: 8 + 8 + 6.
        XCTAssertEqual(VectorOperation.softmax(rows: 2, columns: 16).cycles(on: os), 22)
        XCTAssertEqual(VectorOperation.layerNorm(rows: 2, columns: 16).cycles(on: os), 10 + 8 + 6)
        XCTAssertEqual(VectorOperation.batchNorm(elements: 32).cycles(on: os), 4 + 6)
        XCTAssertEqual(VectorOperation.pool(outputs: 16, window: 9).cycles(on: os), 9 + 6)
        // sort 64: s = 6 stages → 21 steps of ⌈32/16⌉ = 2: 42 + 6.
        XCTAssertEqual(VectorOperation.sort(elements: 64).cycles(on: os), 48)
        // NMS 64: the sort plus 4 × ⌈2016/16⌉ = 504.
        XCTAssertEqual(VectorOperation.nms(candidates: 64).cycles(on: os), 48 + 504)
        // top-5 of 100: ⌈100/16⌉ = 7 per level, ⌈log₂ 6⌉ = 3 levels: 21 + 6.
        XCTAssertEqual(VectorOperation.topK(elements: 100, k: 5).cycles(on: os), 27)
        // gather 10 rows of 128 one-byte values over 64 B/cycle: 10 + 20.
        var wide = os
        wide.bandwidthBytesPerCycle = 64
        XCTAssertEqual(VectorOperation.gather(lookups: 10, dimension: 128).cycles(on: wide), 30)
    }

    func testVectorCostsGrowWithTheirInputs() {
        for n in [1, 2, 15, 16, 17, 100, 1000] {
            XCTAssertLessThanOrEqual(
                VectorOperation.sort(elements: n).cycles(on: os), VectorOperation.sort(elements: n + 1).cycles(on: os))
            XCTAssertLessThanOrEqual(
                VectorOperation.nms(candidates: n).cycles(on: os), VectorOperation.nms(candidates: n + 1).cycles(on: os)
            )
            XCTAssertLessThanOrEqual(
                VectorOperation.softmax(rows: 3, columns: n).cycles(on: os),
                VectorOperation.softmax(rows: 3, columns: n + 1).cycles(on: os))
        }
    }
}
