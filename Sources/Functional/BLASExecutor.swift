import Foundation
import WaferModel

/// Functional mode's kernels: task blocks compute real outputs on real tensors, GEMMs on OpenBLAS,
/// everything else in Swift, with weights and inputs derived from the run seed. Control blocks then
/// decide on these outputs. Nothing here touches virtual time.
public final class BLASExecutor: FunctionalExecutor {
    /// Loads OpenBLAS (``GEMM/load()``); throws ``GEMM/Unavailable`` when it cannot be loaded.
    public init() throws {
        try GEMM.load()
    }

    // MARK: Inputs

    public func input(of workflow: WorkflowGraph, request: UInt64, injected: Cycle, seed: UInt64) -> Tensor {
        let shape =
            workflow.input?.shape.compactMap { d -> Int? in if case .fixed(let n) = d { return n } else { return nil } }
            ?? [1]
        switch workflow.generator {
        case .scene(let objects, let classes)?:
            let phase = workflow.phases.index(at: injected)
            return SceneGenerator.frame(
                shape: shape, objects: objects[phase], classProbabilities: classes[phase],
                templates: SeededWeights.classTemplates(
                    classes: classes[phase].count, seed: seed, workflow: workflow.name),
                keys: [seed, SeededWeights.key(workflow.name), request, StreamPurpose.scene.rawValue])
        case .random?, nil:
            let count = shape.reduce(1, *)
            return Tensor(
                shape: shape,
                values: SeededWeights.uniform(
                    count: count, scale: 1,
                    keys: [seed, SeededWeights.key(workflow.name), request, StreamPurpose.input.rawValue]))
        }
    }

    // MARK: Task blocks

    public func run(_ block: TaskBlock, of workflow: WorkflowGraph, input: Tensor?, seed: UInt64) -> Tensor {
        let declared = block.output?.shape.compactMap { d -> Int? in
            if case .fixed(let n) = d { return n } else { return nil }
        }
        let numeric = declared.flatMap { $0.count == block.output?.shape.count ? $0 : nil }
        guard let function = block.function, let input else {
            // A block without a kernel passes its data on when the declared output holds it
            // (preprocessing), otherwise it produces zeros of its declared output.
            if let input, numeric == nil || numeric!.reduce(1, *) == input.values.count {
                return Tensor(shape: numeric ?? input.shape, values: input.values)
            }
            return Tensor(zeros: numeric ?? [1])
        }
        switch function {
        case .detect(let maxObjects): return Kernels.detect(input, maxObjects: maxObjects)
        case .nms(let iou, let threshold): return Kernels.nms(input, iou: Float(iou), threshold: Float(threshold))
        case .classify(let classes):
            return Kernels.classify(
                input, templates: SeededWeights.classTemplates(classes: classes, seed: seed, workflow: workflow.name),
                classes: classes)
        case .dense(let activation):
            let outColumns = declared?.last ?? input.columns
            let weights = SeededWeights.uniform(
                count: input.columns * outColumns, scale: 1 / Float(max(1, input.columns)).squareRoot(),
                keys: [
                    seed, SeededWeights.key(workflow.name), SeededWeights.key(blockName(block, in: workflow)),
                    UInt64(input.columns), UInt64(outColumns),
                ])
            var out = Kernels.dense(input, weights: weights, outColumns: outColumns, activation: activation)
            if let declared, declared.reduce(1, *) == out.values.count, declared.count == block.output?.shape.count {
                out.shape = declared
            }
            return out
        }
    }

    private func blockName(_ block: TaskBlock, in workflow: WorkflowGraph) -> String {
        workflow.blocks.first { if case .task(let t) = $0.kind { return t == block } else { return false } }?.name ?? ""
    }
}

/// Synthetic camera frames with a controlled number of objects of known classes.
public enum SceneGenerator {
    /// One painted object: its grid cell and class.
    public struct Object: Equatable, Sendable {
        public var row: Int
        public var column: Int
        public var objectClass: Int
    }

    /// A `[H, W, C]` frame: dark noise, and `objects` (drawn) objects, each filling one 16-pixel
    /// cell of a grid whose used cells are never adjacent, painted with its class template.
    public static func frame(
        shape: [Int], objects: ParameterDistribution, classProbabilities: [Double], templates: [Float], keys: [UInt64]
    ) -> Tensor {
        scene(shape: shape, objects: objects, classProbabilities: classProbabilities, templates: templates, keys: keys)
            .frame
    }

    /// The frame and the objects painted on it (tests compare what the detector finds with these).
    public static func scene(
        shape: [Int], objects: ParameterDistribution, classProbabilities: [Double], templates: [Float],
        keys: [UInt64]
    ) -> (frame: Tensor, objects: [Object]) {
        guard shape.count == 3 else { return (Tensor(zeros: shape), []) }
        let (height, width, channels) = (shape[0], shape[1], shape[2])
        var rng = SplitMix64(keyList: keys)
        var values = [Float](repeating: 0, count: height * width * channels)
        for i in values.indices { values[i] = Float(rng.nextUnit() * 0.1) }
        // Slots: cells with even grid coordinates, so no two objects touch.
        let cell = SceneLayout.cell
        var slots: [(Int, Int)] = []
        for row in stride(from: 0, to: height / cell, by: 2) {
            for column in stride(from: 0, to: width / cell, by: 2) { slots.append((row, column)) }
        }
        let count = min(objects.sample(&rng), slots.count)
        var painted: [Object] = []
        for i in 0..<count {
            let j = i + Int(rng.next() % UInt64(slots.count - i))
            slots.swapAt(i, j)
            var u = rng.nextUnit()
            var objectClass = 0
            while objectClass < classProbabilities.count - 1 && u >= classProbabilities[objectClass] {
                u -= classProbabilities[objectClass]
                objectClass += 1
            }
            let (row, column) = slots[i]
            painted.append(Object(row: row, column: column, objectClass: objectClass))
            for y in 0..<cell {
                for x in 0..<cell {
                    // 2×2 pixel blocks carry one template value each: the 8×8 appearance.
                    let t = templates[objectClass * SceneLayout.appearance + (y / 2) * 8 + x / 2]
                    let value = SceneLayout.base + SceneLayout.contrast * t
                    let pixel = ((row * cell + y) * width + column * cell + x) * channels
                    for c in 0..<channels { values[pixel + c] = value }
                }
            }
        }
        return (Tensor(shape: shape, values: values), painted)
    }
}

/// The kernels themselves, on plain tensors.
public enum Kernels {
    /// Grey image → per-cell scores by a box-filter convolution (im2col + GEMM), then the best
    /// `maxObjects` cells as rows `[x, y, w, h, score, 0, appearance(64)]`, best first.
    public static func detect(_ frame: Tensor, maxObjects: Int) -> Tensor {
        let columns = SceneLayout.boxColumns + SceneLayout.appearance
        guard frame.shape.count == 3 else { return Tensor(zeros: [maxObjects, columns]) }
        let (height, width, channels) = (frame.shape[0], frame.shape[1], frame.shape[2])
        let cell = SceneLayout.cell
        let (rows, cols) = (height / cell, width / cell)
        var grey = [Float](repeating: 0, count: height * width)
        for i in grey.indices {
            var sum: Float = 0
            for c in 0..<channels { sum += frame.values[i * channels + c] }
            grey[i] = sum / Float(channels)
        }
        // im2col: one row per cell, one column per pixel of the 16×16 window (stride 16).
        let window = cell * cell
        var patches = [Float](repeating: 0, count: rows * cols * window)
        for r in 0..<rows {
            for c in 0..<cols {
                let base = (r * cols + c) * window
                for y in 0..<cell {
                    for x in 0..<cell { patches[base + y * cell + x] = grey[(r * cell + y) * width + c * cell + x] }
                }
            }
        }
        let filter = [Float](repeating: 1 / Float(window), count: window)
        let scores = GEMM.multiply(patches, filter, m: rows * cols, n: 1, k: window)
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        var out = [Float](repeating: 0, count: maxObjects * columns)
        for (slot, index) in order.prefix(maxObjects).enumerated() {
            let (r, c) = (index / cols, index % cols)
            let row = slot * columns
            out[row] = Float(c * cell)
            out[row + 1] = Float(r * cell)
            out[row + 2] = Float(cell)
            out[row + 3] = Float(cell)
            out[row + 4] = scores[index]
            for ay in 0..<8 {
                for ax in 0..<8 {
                    var sum: Float = 0
                    for dy in 0..<2 {
                        for dx in 0..<2 { sum += patches[index * window + (ay * 2 + dy) * cell + ax * 2 + dx] }
                    }
                    out[row + SceneLayout.boxColumns + ay * 8 + ax] = sum / 4
                }
            }
        }
        return Tensor(shape: [maxObjects, columns], values: out)
    }

    /// Greedy non-maximum suppression over rows `[x, y, w, h, score, …]`: weak rows and rows
    /// overlapping a better one by more than `iou` get score 0.
    public static func nms(_ detections: Tensor, iou: Float, threshold: Float) -> Tensor {
        var out = detections
        let columns = detections.columns
        guard columns >= 5 else { return out }
        let rows = detections.rows
        func box(_ r: Int) -> (Float, Float, Float, Float) {
            (
                out.values[r * columns], out.values[r * columns + 1], out.values[r * columns + 2],
                out.values[r * columns + 3]
            )
        }
        let order = (0..<rows).sorted { out.values[$0 * columns + 4] > out.values[$1 * columns + 4] }
        for r in 0..<rows where out.values[r * columns + 4] <= threshold { out.values[r * columns + 4] = 0 }
        for (i, a) in order.enumerated() where out.values[a * columns + 4] > 0 {
            let (ax, ay, aw, ah) = box(a)
            for b in order[(i + 1)...] where out.values[b * columns + 4] > 0 {
                let (bx, by, bw, bh) = box(b)
                let w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
                let h = max(0, min(ay + ah, by + bh) - max(ay, by))
                let inter = w * h
                let union = aw * ah + bw * bh - inter
                if union > 0 && inter / union > iou { out.values[b * columns + 4] = 0 }
            }
        }
        return out
    }

    /// Logits `[1, classes]` of one detection row: its centred appearance times the class
    /// templates (a GEMM `[1, 64] × [64, classes]`).
    public static func classify(_ detection: Tensor, templates: [Float], classes: Int) -> Tensor {
        let a = SceneLayout.appearance
        let start = SceneLayout.boxColumns
        guard detection.values.count >= start + a else { return Tensor(zeros: [1, classes]) }
        let features = (0..<a).map { (detection.values[start + $0] - SceneLayout.base) / SceneLayout.contrast }
        // templates are classes × 64; the weight matrix is their transpose, 64 × classes.
        var weights = [Float](repeating: 0, count: a * classes)
        for c in 0..<classes {
            for i in 0..<a { weights[i * classes + c] = templates[c * a + i] / Float(a) }
        }
        return Tensor(shape: [1, classes], values: GEMM.multiply(features, weights, m: 1, n: classes, k: a))
    }

    /// `activation(X · W)` on the matrix view `[rows, columns]` of the input.
    public static func dense(
        _ input: Tensor, weights: [Float], outColumns: Int, activation: FunctionalKernel.Activation
    ) -> Tensor {
        var y = GEMM.multiply(input.values, weights, m: input.rows, n: outColumns, k: input.columns)
        switch activation {
        case .none: break
        case .relu: for i in y.indices { y[i] = max(0, y[i]) }
        case .tanh: for i in y.indices { y[i] = Foundation.tanh(y[i]) }
        case .sigmoid: for i in y.indices { y[i] = 1 / (1 + Foundation.exp(-y[i])) }
        }
        return Tensor(shape: [input.rows, outColumns], values: y)
    }
}
