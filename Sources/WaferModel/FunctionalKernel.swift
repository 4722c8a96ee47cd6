/// What a task block computes on real tensors in functional mode. Timing never comes from these:
/// it always comes from the block's operations on the PE-array model.
public enum FunctionalKernel: Codable, Equatable, Sendable {
    /// Object detector over a scene frame: a convolution (im2col + GEMM) with a blob-matched filter
    /// gives a score map; the `maxObjects` best local maxima become rows `[x, y, w, h, score, 0]`.
    case detect(maxObjects: Int)
    /// Non-maximum suppression: rows whose box overlaps a better-scoring one by more than `iou`
    /// get score 0; the score threshold `threshold` zeroes weak rows.
    case nms(iou: Double, threshold: Double)
    /// Classifies the object of one detection row: its crop of the original frame, through a
    /// seeded linear layer (GEMM) with `classes` outputs → logits `[1, classes]`.
    case classify(classes: Int)
    /// A seeded linear layer on the matrix view of the input (GEMM `[rows, cols] × [cols, out]`,
    /// then the activation), reshaped to the declared output.
    case dense(activation: Activation)

    public enum Activation: String, Codable, CaseIterable, Sendable {
        case none, relu, tanh, sigmoid
    }

    /// The keyword in workflow files.
    public var keyword: String {
        switch self {
        case .detect: return "detect"
        case .nms: return "nms"
        case .classify: return "classify"
        case .dense: return "dense"
        }
    }
}
