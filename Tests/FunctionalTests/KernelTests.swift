import WaferModel
import XCTest

@testable import Functional

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

extension KernelTests {
    /// Detector + NMS find exactly the painted objects, and the classifier names their classes.
    func testTheKernelsRecoverThePaintedScene() {
        let templates = SeededWeights.classTemplates(classes: 8, seed: 1, workflow: "w")
        var found = 0
        for request in 0..<60 {
            let (frame, objects) = SceneGenerator.scene(
                shape: [416, 416, 3], objects: .uniform(low: 0, high: 16),
                classProbabilities: Array(repeating: 0.125, count: 8), templates: templates,
                keys: [1, UInt64(request)])
            let detections = Kernels.nms(Kernels.detect(frame, maxObjects: 64), iou: 0.5, threshold: 0.5)
            let rows = TensorCount.rowsWhere(column: 4, above: 0.5).items(of: detections)
            XCTAssertEqual(rows.count, objects.count, "request \(request)")
            for row in rows {
                let item = detections.item(row)
                let object = objects.first {
                    $0.column * 16 == Int(item.values[0]) && $0.row * 16 == Int(item.values[1])
                }
                XCTAssertNotNil(object, "a detection where nothing was painted")
                let logits = Kernels.classify(item, templates: templates, classes: 8)
                XCTAssertTrue(TensorPredicate.argmaxIn([object?.objectClass ?? -1]).holds(for: logits))
                found += 1
            }
        }
        XCTAssertGreaterThan(found, 300)
    }

    func testNMSSuppressesOverlapsAndWeakRows() {
        // Two overlapping boxes (IoU 0.6), one separate, one weak.
        let rows: [[Float]] = [
            [0, 0, 10, 10, 0.9], [0, 2.5, 10, 10, 0.8], [50, 50, 10, 10, 0.7], [80, 80, 10, 10, 0.3],
        ]
        let out = Kernels.nms(Tensor(shape: [4, 5], values: rows.flatMap { $0 }), iou: 0.5, threshold: 0.5)
        XCTAssertEqual((0..<4).map { out.values[$0 * 5 + 4] }, [0.9, 0, 0.7, 0])
    }
}
