import Scheduling
import WaferModel
import XCTest

@testable import Emulation

/// A block's costs are cached by its interned shape; the cache must give what timing the drawn
/// layers directly gives, whatever order the shapes and array counts are asked in.
final class BlockCostsTests: XCTestCase {
    func testInternedShapesCostWhatTheirLayersCost() throws {
        let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/default.yaml")
        let library = try WorkflowLibrary.load(directory: repositoryRoot + "/Configs/workflows")
        let costs = BlockCosts.shared(config: config, library: library)
        let (array, buffer) = (costs.table.array, costs.table.buffer)
        var types: [TaskType] = []
        for (w, graph) in library.workflows.enumerated() {
            for (b, block) in graph.blocks.enumerated() {
                if case .task = block.kind { types.append(TaskType(workflow: w, block: b)) }
            }
        }
        XCTAssertFalse(types.filter { !costs.table.dynamicOperations($0).isEmpty }.isEmpty, "the suite draws shapes")
        var rng = SplitMix64(seed: 3)
        var indices: [[Int]: Int] = [:]
        for _ in 0..<600 {
            let type = types[Int(rng.next() % UInt64(types.count))]
            guard case .task(let block) = library[Int(type.workflow)].blocks[Int(type.block)].kind else { continue }
            let dynamic = costs.table.dynamicOperations(type)
            // Drawn from each model's distributions; a few shapes come back often.
            var drawRNG = SplitMix64(seed: rng.next() % 8)
            let shape = dynamic.flatMap { $0.model.sample(&drawRNG) }
            let index = costs.intern(type, shape: shape)
            let key = [Int(type.workflow), Int(type.block)] + shape
            XCTAssertEqual(indices[key, default: index], index, "one index per type and shape")
            indices[key] = index
            let parts = Int.random(in: 1...4, using: &rng)
            var expected: [Cycle] = block.operations.map { $0.cycles(on: array, buffer: buffer, parts: parts) }
            var offset = 0
            for (position, model) in dynamic {
                let values = Array(shape[offset..<offset + model.drawn.count])
                offset += model.drawn.count
                expected[position] = try model.layers(values: values).reduce(0) {
                    $0 + TaskOperation.splitCycles(of: $1, on: array, buffer: buffer, parts: parts)
                }
            }
            XCTAssertEqual(costs.operationCycles(shape: index, parts: parts), expected, "\(type) \(shape) on \(parts)")
            XCTAssertEqual(costs.totalCycles(shape: index, parts: parts), expected.reduce(0, +))
            XCTAssertEqual(costs.totalCycles(type, shape: shape, parts: parts), expected.reduce(0, +))
        }
        XCTAssertEqual(Set(indices.values).count, indices.count, "distinct shapes, distinct indices")
    }
}
