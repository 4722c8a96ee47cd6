import Foundation
import XCTest

@testable import WaferModel

final class LayerTimingTests: XCTestCase {
    func array(_ rows: Int, _ columns: Int, _ dataflow: Dataflow, sram: Int = 1 << 20, bandwidth: Int = 1 << 20)
        -> PEArrayConfig
    {
        PEArrayConfig(
            rows: rows, columns: columns, dataflow: dataflow, sramBytes: sram, bandwidthBytesPerCycle: bandwidth)
    }

    func testConvolutionLowersLikeSCALESim() {
        // ResNet-50 conv1: 224×224×3, 7×7, 64 filters, stride 2: ⌈(224 − 7 + 2)/2⌉ = 110 per side
        // (SCALE-Sim's formula, no padding), window 7·7·3 = 147.
        let conv1 = Layer.conv(
            name: "conv1", ifmapHeight: 224, ifmapWidth: 224, filterHeight: 7, filterWidth: 7,
            channels: 3, filters: 64, stride: 2, depthwise: false)
        XCTAssertEqual(conv1.lowered, [Layer.LoweredGEMM(name: "conv1", m: 110 * 110, n: 64, k: 147)])
        let dw = Layer.conv(
            name: "DP1", ifmapHeight: 8, ifmapWidth: 8, filterHeight: 3, filterWidth: 3,
            channels: 4, filters: 1, stride: 1, depthwise: true)
        XCTAssertEqual(dw.lowered.count, 4, "one single-channel GEMM per channel")
        XCTAssertEqual(dw.lowered[3], Layer.LoweredGEMM(name: "DP1Channel_3", m: 36, n: 1, k: 9))
        XCTAssertNotNil(
            Layer.conv(
                name: "x", ifmapHeight: 2, ifmapWidth: 2, filterHeight: 3, filterWidth: 1,
                channels: 1, filters: 1, stride: 1, depthwise: false
            ).problem)
    }

    /// Output sizes follow SCALE-Sim's `⌈(H − FH + S)/S⌉` for every small shape, and no stride
    /// overflows them: a stride far beyond the input is a valid layer two pixels wide by the formula (a topology
    /// file saying so was a crash).
    func testOutputSizesAreSCALESimsAndNoStrideOverflowsThem() throws {
        for input in 1...20 {
            for filter in 1...input {
                for stride in 1...25 {
                    XCTAssertEqual(
                        Layer.outputSize(input: input, filter: filter, stride: stride),
                        (input - filter + stride + stride - 1) / stride, "\(input) \(filter) \(stride)")
                }
            }
        }
        let wide = Layer.conv(
            name: "wide", ifmapHeight: 32, ifmapWidth: 32, filterHeight: 3, filterWidth: 3, channels: 3, filters: 16,
            stride: .max, depthwise: false)
        XCTAssertNil(wide.problem)
        XCTAssertEqual(wide.lowered, [Layer.LoweredGEMM(name: "wide", m: 4, n: 16, k: 27)])
        let table = try TopologyTable(
            text: "Layer, H, W, FH, FW, C, N, S,\nwide, 32, 32, 3, 3, 3, 16, \(Int.max),\n", file: "wide.csv")
        XCTAssertEqual(try table.layers(), [wide])
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
        let t = LayerTiming(
            Layer.LoweredGEMM(name: "g", m: 8, n: 8, k: 8), array: array(4, 4, .os, sram: 96, bandwidth: 1))
        XCTAssertEqual(t.trafficBytes, 320)
    }

    func testOperandsBeyondTheClusterBufferStall() {
        // 8×8×8 OS on 4×4 with a wide link: 55 compute cycles, fill 1, no link stall. Operands are
        // 3 × 64 = 192 bytes; a 64-byte buffer leaves 128 to stream in at 1 B/cycle: 128 cycles,
        // of which fill + compute hide 56: a 72-cycle buffer stall.
        let gemm = Layer.LoweredGEMM(name: "g", m: 8, n: 8, k: 8)
        let small = LayerTiming(gemm, array: array(4, 4, .os), buffer: .init(bytes: 64, refillBytesPerCycle: 1))
        XCTAssertEqual(small.computeCycles, 55)
        XCTAssertEqual(small.fillCycles, 1)
        XCTAssertEqual(small.bandwidthStallCycles, 0)
        XCTAssertEqual(small.bufferStallCycles, 72)
        XCTAssertEqual(small.totalCycles, 128)
        // A buffer that holds everything adds nothing.
        XCTAssertEqual(
            LayerTiming(gemm, array: array(4, 4, .os), buffer: .init(bytes: 192, refillBytesPerCycle: 1))
                .bufferStallCycles, 0)
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
                        let split = SystolicTiming.splitGemmCycles(
                            m: m, n: n, k: k, array: a, parts: parts, along: dimension)
                        XCTAssertGreaterThanOrEqual(
                            split * Cycle(parts), one, "\(dataflow) \(m)×\(n)×\(k) on \(parts) along \(dimension)")
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
        let graph = try WorkflowLoader.parse(
            """
            name: w
            blocks:
              - name: a
                task:
                  - {conv: [32, 32, 3, 3, 16, 32], stride: 2, name: c1}
                  - {depthwise: [15, 15, 3, 3, 32, 1], name: dw}
            """, file: "w.yaml")
        guard case .task(let block) = graph.blocks[0].kind, case .layer(let c1) = block.operations[0],
            case .layer(let dw) = block.operations[1]
        else {
            return XCTFail()
        }
        // ⌈(32 − 3 + 2)/2⌉ = 16 per side.
        XCTAssertEqual(c1.lowered.first, Layer.LoweredGEMM(name: "c1", m: 16 * 16, n: 32, k: 144))
        XCTAssertEqual(dw.lowered.count, 32)
        XCTAssertThrowsError(
            try WorkflowLoader.parse(
                "name: w\nblocks:\n  - {name: a, task: [{conv: [2, 2, 3, 3, 1, 1]}]}", file: "w.yaml")
        ) { error in
            XCTAssertTrue((error as! ConfigError).message.contains("larger than"), "\(error)")
        }
        XCTAssertThrowsError(
            try WorkflowLoader.parse(
                "name: w\nblocks:\n  - {name: a, task: [{gemm: [2, 2, 3], stride: 2}]}", file: "w.yaml"))
    }
}

final class TopologyTableTests: XCTestCase {
    func testParametersAndExpressions() throws {
        let table = try TopologyTable(
            text: """
                # Source: a test
                # param seq = 8      # tokens
                # param heads = 2
                Layer, M, N, K,
                qkv, seq, 3*64, 64,
                scores, seq*heads, seq, 64/3,
                padded, (seq + 1) * 2, 1, 1,
                """, file: "t.csv")
        XCTAssertEqual(table.parameters, ["seq": 8, "heads": 2])
        XCTAssertEqual(
            try table.layers().map(\.lowered),
            [
                [Layer.LoweredGEMM(name: "qkv", m: 8, n: 192, k: 64)],
                [Layer.LoweredGEMM(name: "scores", m: 16, n: 8, k: 22)],  // 64/3 rounds up
                [Layer.LoweredGEMM(name: "padded", m: 18, n: 1, k: 1)],
            ])
        XCTAssertEqual(try table.layers(["seq": 100])[0].lowered[0].m, 100)
        XCTAssertThrowsError(try table.layers(["tokens": 1])) { XCTAssertEqual(($0 as! ConfigError).field, "tokens") }
    }

    /// Rows prepared for many values of the drawn parameters give exactly the layers the table
    /// gives with the same values, and nothing exactly where it refuses them (a dimension that
    /// is not positive, a division by zero or less, an overflow, a convolution the model rejects).
    func testPreparedRowsEvaluateAsTheTableDoes() throws {
        let table = try TopologyTable(
            text: """
                # param seq = 8
                # param heads = 2
                # param width = 64
                Layer, M, N, K,
                qkv, seq, 3*width, width,
                scores, seq*heads, seq, width/heads,
                shrink, seq - heads, (seq + 1) * 2, 1,
                ratio, 1, width / (seq - 4), heads * heads * heads,
                huge, seq * 1000000000, 1, 1,
                over, seq * seq * seq * 1000, 1, 1,
                convDP, seq, seq, heads, heads, width, width, 1,
                """, file: "t.csv")
        let fixed = ["width": 32]
        let inputs = ["heads", "seq"]
        let rows = Array(0..<7)
        let prepared = try table.prepare(rows: rows, fixed: fixed, inputs: inputs)
        XCTAssertEqual(prepared.count, rows.count)
        var rng = SplitMix64(seed: 3)
        var refused = 0
        for _ in 0..<3_000 {
            // Values around the interesting edges (zero, negative, small, large), sometimes too few.
            let values = (0..<Int.random(in: 1...2, using: &rng)).map { _ in
                Int.random(in: -3...12, using: &rng) * (Bool.random(using: &rng) ? 1 : 1_000_000)
            }
            var overrides = fixed
            for (name, value) in zip(inputs, values) { overrides[name] = value }
            for (position, row) in rows.enumerated() {
                let expected = try? table.layer(row: row, overrides)
                XCTAssertEqual(prepared.layer(position, inputs: values), expected, "row \(row), values \(values)")
                if expected == nil { refused += 1 }
            }
        }
        XCTAssertGreaterThan(refused, 100, "the cases exercised refusals")
        XCTAssertThrowsError(try table.prepare(rows: rows, fixed: ["tokens": 1], inputs: inputs))
        XCTAssertThrowsError(try table.prepare(rows: rows, fixed: fixed, inputs: ["tokens"]))
    }

    func testErrorsNameLineAndLayer() {
        let cases: [(String, Int, String)] = [
            ("Layer, M, N, K,\na, 1, 2,\n", 2, "a"),
            ("Layer, M, N, K,\na, 1, x, 1,\n", 2, "a"),
            ("Layer, M, N, K,\nok, 1, 1, 1,\nb, 1, 0, 1,\n", 3, "b"),
            ("# param = 3\nLayer, M, N, K,\na, 1, 1, 1,\n", 1, "param"),
            ("Layer, H, W, FH, FW, C, N, S,\nc, 2, 2, 3, 3, 1, 1, 1,\n", 2, "c"),
        ]
        for (text, line, field) in cases {
            XCTAssertThrowsError(try TopologyTable(text: text, file: "t.csv"), text) { error in
                let e = error as! ConfigError
                XCTAssertEqual(e.line, line, text)
                XCTAssertEqual(e.field, field, text)
            }
        }
    }

    /// A SCALE-Sim configuration or a topology table that cannot be read says what is wrong with
    /// the file (it said "does it exist?" of a file that existed but was not text).
    func testUnreadableFilesSayWhy() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("octopus-read-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory + "/d.csv", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        FileManager.default.createFile(atPath: directory + "/empty.csv", contents: Data())
        FileManager.default.createFile(atPath: directory + "/bin.csv", contents: Data([0x4C, 0xFF, 0xFE, 0x0A]))
        for (file, why) in [
            ("none.csv", "no such file"), ("d.csv", "is a directory, not a file"), ("empty.csv", "empty file"),
            ("bin.csv", "not UTF-8 text"),
        ] {
            let path = directory + "/" + file
            for read in [{ _ = try TopologyTable.load(path: path) }, { _ = try SCALESimFiles.config(path: path) }] {
                XCTAssertThrowsError(try read()) { error in
                    XCTAssertEqual((error as? ConfigError)?.message, why, "\(error)")
                    XCTAssertEqual((error as? ConfigError)?.file, path, "\(error)")
                }
            }
        }
    }

    /// Tables travel to cluster processes as JSON, rows as one text of `line,name,cells…` lines:
    /// they come back equal, and a malformed or hostile row is refused with a message, never trusted.
    func testTablesCodeCompactlyAndDecodeToTheSameTable() throws {
        let table = try TopologyTable.load(path: repositoryRoot + "/Configs/topologies/gpt2-small-decode.csv")
        let data = try JSONEncoder().encode(table)
        XCTAssertEqual(try JSONDecoder().decode(TopologyTable.self, from: data), table)
        XCTAssertEqual(try table.layer(row: 1, ["ctx": 300]), try table.layers(["ctx": 300])[1])
        let json = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(json.contains(#"\n9,l0_scores_h0,1,ctx,64\n"#), String(json.prefix(300)))
        for rows in [
            #""1,a,1,2""#, #""x,a,1,2,3""#, #""1,a,1,nope,3""#, #""1,a,1,0,3""#, #""1,a,1,2,3\n2,b,1,2""#,
            #"[["1","a","1","2","3"]]"#,
        ] {
            let text = #"{"file": "t.csv", "parameters": {}, "rows": "# + rows + "}"
            XCTAssertThrowsError(try JSONDecoder().decode(TopologyTable.self, from: Data(text.utf8)), rows)
        }
    }

    func testShippedTablesLoad() throws {
        let directory = repositoryRoot + "/Configs/topologies"
        let expected = [
            "bert-base-layer": 28, "dlrm-mlp": 8, "gpt2-small-decode": 337, "mobilenetv2": 52, "resnet50": 53,
            "resnet50-fc": 1, "yolov3-tiny": 13,
        ]
        for (name, rows) in expected {
            let text = try String(contentsOfFile: "\(directory)/\(name).csv", encoding: .utf8)
            XCTAssertTrue(text.hasPrefix("# "), "\(name) starts with a comment naming its source")
            XCTAssertEqual(try TopologyTable.load(path: "\(directory)/\(name).csv").layers().count, rows, name)
        }
        // torchvision lists ResNet-50 (v1.5) at 4.09 G multiply-adds; the convolutions here give the same.
        let macs = try TopologyTable.load(path: "\(directory)/resnet50.csv").layers().flatMap(\.lowered).reduce(0) {
            $0 + $1.m * $1.n * $1.k
        }
        XCTAssertEqual(Double(macs) / 1e9, 4.09, accuracy: 0.05)
        // GPT-2 decode grows with the context only in the attention GEMMs.
        let gpt = try TopologyTable.load(path: "\(directory)/gpt2-small-decode.csv")
        let short = try gpt.layers(["ctx": 128]).flatMap(\.lowered).reduce(0) { $0 + $1.m * $1.n * $1.k }
        let long = try gpt.layers(["ctx": 1024]).flatMap(\.lowered).reduce(0) { $0 + $1.m * $1.n * $1.k }
        XCTAssertEqual(long - short, 12 * 12 * 2 * 64 * (1024 - 128))
    }

    func testWorkflowsUseTablesWithParameters() throws {
        let graph = try WorkflowLoader.parse(
            """
            name: w
            blocks:
              - name: decode
                task: [{model: gpt2-small-decode, params: {ctx: 64}}, {elementwise: 768, name: sample}]
            """, file: "w.yaml", topologies: repositoryRoot + "/Configs/topologies")
        guard case .task(let block) = graph.blocks[0].kind else { return XCTFail() }
        XCTAssertEqual(block.operations.count, 338)
        guard case .layer(let scores) = block.operations[1] else { return XCTFail() }
        XCTAssertEqual(scores.lowered[0], Layer.LoweredGEMM(name: "l0_scores_h0", m: 1, n: 64, k: 64))
        XCTAssertThrowsError(
            try WorkflowLoader.parse(
                "name: w\nblocks:\n  - {name: a, task: [{model: nope}]}", file: "w.yaml",
                topologies: repositoryRoot + "/Configs/topologies")
        ) { error in
            XCTAssertTrue("\(error)".contains("no layer table 'nope'"), "\(error)")
        }
        XCTAssertThrowsError(
            try WorkflowLoader.parse(
                "name: w\nblocks:\n  - {name: a, task: [{model: dlrm-mlp, params: {seq: 2}}]}", file: "w.yaml",
                topologies: repositoryRoot + "/Configs/topologies")
        ) { error in
            XCTAssertEqual((error as! ConfigError).field, "blocks[0].task[0].params.seq")
        }
    }
}

final class VectorOperationParsingTests: XCTestCase {
    func testWorkflowVectorOperations() throws {
        let graph = try WorkflowLoader.parse(
            """
            name: w
            blocks:
              - name: post
                task: [{nms: 100}, {softmax: [4, 80]}, {topk: [1000, 5], name: best}, {gather: [26, 128]}, {activation: 4096}]
            """, file: "w.yaml")
        guard case .task(let block) = graph.blocks[0].kind else { return XCTFail() }
        XCTAssertEqual(
            block.operations,
            [
                .vector(name: "nms", .nms(candidates: 100)), .vector(name: "softmax", .softmax(rows: 4, columns: 80)),
                .vector(name: "best", .topK(elements: 1000, k: 5)),
                .vector(name: "gather", .gather(lookups: 26, dimension: 128)),
                .vector(name: "activation", .elementwise(elements: 4096)),
            ])
        XCTAssertThrowsError(
            try WorkflowLoader.parse("name: w\nblocks:\n  - {name: a, task: [{topk: [5, 10]}]}", file: "w.yaml")
        ) { error in
            XCTAssertEqual((error as! ConfigError).field, "blocks[0].task[0].topk")
        }
        XCTAssertThrowsError(
            try WorkflowLoader.parse("name: w\nblocks:\n  - {name: a, task: [{softmax: 3}]}", file: "w.yaml")
        ) { error in
            XCTAssertEqual((error as! ConfigError).field, "blocks[0].task[0].softmax")
        }
    }
}
