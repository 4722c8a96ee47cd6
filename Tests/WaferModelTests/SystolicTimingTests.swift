import XCTest
@testable import WaferModel

final class SystolicTimingTests: XCTestCase {
    let os = PEArrayConfig(rows: 4, columns: 4, dataflow: .os, sramBytes: 1024)

    func testOneFold() {
        // 4×4 outputs fit the 4×4 array in one fold; T = K = 8: 2·4 + 4 + 8 − 2 = 18 cycles.
        XCTAssertEqual(SystolicTiming.folds(m: 4, n: 4, k: 8, array: os), 1)
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 4, n: 4, k: 8, array: os), 18)
    }

    func testPartialFoldsCountWhole() {
        // M = 5 needs ⌈5/4⌉ = 2 row folds, N = 9 needs 3 column folds: 6 folds × 18.
        XCTAssertEqual(SystolicTiming.folds(m: 5, n: 9, k: 8, array: os), 6)
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 5, n: 9, k: 8, array: os), 108)
    }

    func testDataflowsMapDimensionsDifferently() {
        var ws = os
        ws.dataflow = .ws
        // WS: Sr = K = 8 (2 folds), Sc = N = 4 (1 fold), T = M = 4: 2 × (8 + 4 + 4 − 2) = 28.
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 4, n: 4, k: 8, array: ws), 28)
        var inputStationary = os
        inputStationary.dataflow = .is
        // IS: Sr = K = 8 (2), Sc = M = 4 (1), T = N = 4.
        XCTAssertEqual(SystolicTiming.gemmCycles(m: 4, n: 4, k: 8, array: inputStationary), 28)
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

    func testElementwise() {
        XCTAssertEqual(SystolicTiming.elementwiseCycles(elements: 33, array: os), 3)
    }
}
