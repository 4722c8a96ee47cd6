import XCTest
@testable import Functional
import WaferModel

final class KernelTests: XCTestCase {
    func testGEMMMatchesANaiveProduct() {
        var rng = SplitMix64(seed: 4)
        let (m, n, k) = (5, 7, 3)
        let a = (0..<(m * k)).map { _ in Float(rng.nextUnit() - 0.5) }
        let b = (0..<(k * n)).map { _ in Float(rng.nextUnit() - 0.5) }
        let c = GEMM.multiply(a, b, m: m, n: n, k: k)
        for i in 0..<m {
            for j in 0..<n {
                let expected = (0..<k).reduce(Float(0)) { $0 + a[i * k + $1] * b[$1 * n + j] }
                XCTAssertEqual(c[i * n + j], expected, accuracy: 1e-5)
            }
        }
    }
}
