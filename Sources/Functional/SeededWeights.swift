import WaferModel

/// Deterministic weights and templates: the same keys give the same values in every process.
enum SeededWeights {
    /// A stable 64-bit hash of a name (FNV-1a; Swift's own hashing is randomised per process).
    static func key(_ name: String) -> UInt64 { SplitMix64.key(ofName: name) }

    /// Uniform values in `[-scale, scale)`.
    static func uniform(count: Int, scale: Float, keys: [UInt64]) -> [Float] {
        var rng = SplitMix64(keyList: keys)
        return (0..<count).map { _ in Float(rng.nextUnit() * 2 - 1) * scale }
    }

    /// The ±1 appearance templates of a scene's object classes, `classes × 64`, shared by the
    /// scene generator and the classifier (whose weights they are: a matched filter).
    static func classTemplates(classes: Int, seed: UInt64, workflow: String) -> [Float] {
        var rng = SplitMix64(keys: seed, key(workflow), StreamPurpose.weights.rawValue)
        return (0..<(classes * SceneLayout.appearance)).map { _ in rng.next() & 1 == 0 ? -1 : 1 }
    }
}

/// The geometry shared by the scene generator and the detector.
enum SceneLayout {
    /// Objects occupy one cell of this many pixels; the detector scores cells.
    static let cell = 16
    /// The appearance of a cell: its 8×8 average-pooled grey values.
    static let appearance = 64
    /// Columns before the appearance in a detection row: x, y, w, h, score, class hint.
    static let boxColumns = 6
    /// Painted object pixels: `base + contrast · template`; the background stays below 0.1.
    static let base: Float = 0.7
    static let contrast: Float = 0.25
}
