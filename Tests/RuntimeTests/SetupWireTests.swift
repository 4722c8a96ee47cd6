import Foundation
import WaferModel
import XCTest

@testable import Runtime

/// The SETUP message: the wafer configuration and the workflow library every cluster process
/// decodes at start, the library in the binary wire form (``WorkflowLibrary``).
final class SetupWireTests: XCTestCase {
    /// The repository root, found from this file's location.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func roundTrip<T: WireCodable>(_ value: T) throws -> (T, [UInt8]) {
        var w = ByteWriter()
        w.write(value)
        var r = ByteReader(w.bytes)
        let decoded = try T(from: &r)
        try r.expectEnd()
        return (decoded, w.bytes)
    }

    /// Every workflow shipped with the project decodes to itself, and encodes to the same bytes
    /// again (the bytes do not depend on dictionary order).
    func testTheShippedLibrariesRoundTrip() throws {
        for directory in ["Configs/workflows", "Configs/serving/workflows"] {
            let library = try WorkflowLibrary.load(directory: Self.root + "/" + directory)
            XCTAssertFalse(library.workflows.isEmpty, directory)
            let (decoded, bytes) = try Self.roundTrip(library)
            XCTAssertEqual(decoded, library, directory)
            XCTAssertEqual(try Self.roundTrip(decoded).1, bytes, directory)
        }
    }

    /// A workflow with every case of every type the library is made of, which the shipped
    /// workflows do not all use.
    static func everyCase() throws -> WorkflowGraph {
        let table = try TopologyTable(
            text: """
                # param seq = 128
                # param heads = 4
                Layer, M, N, K,
                qkv, seq, 3 * 256, 256,
                scores, (seq + 1) / 2, seq - 1, 256 / heads,
                """, file: "gemms.csv")
        let convs = try TopologyTable(
            text: """
                Layer, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
                conv1, 32, 32, 3, 3, 3, 16, 1,
                convDP2, 16, 16, 3, 3, 16, 16, 2,
                """, file: "convs.csv")
        let everyDistribution: [ParameterDistribution] = [
            .uniform(low: 64, high: 512), .choice([1, 2, 3]), .poisson(mean: 2.5, max: 9),
            .geometric(mean: 0.5, max: 4),
        ]
        let vectors: [VectorOperation] = [
            .elementwise(elements: 10), .softmax(rows: 2, columns: 3), .layerNorm(rows: 4, columns: 5),
            .batchNorm(elements: 6), .pool(outputs: 7, window: 8), .nms(candidates: 9), .topK(elements: 10, k: 3),
            .sort(elements: 11), .gather(lookups: 5, dimension: 768),
        ]
        let operations: [TaskOperation] =
            [
                .layer(.gemm(name: "fc", m: 1, n: 500, k: 3600)),
                .layer(
                    .conv(
                        name: "dw", ifmapHeight: 12, ifmapWidth: 14, filterHeight: 3, filterWidth: 3, channels: 8,
                        filters: 8, stride: 2, depthwise: true)),
                .fixed(name: "post", cycles: 1 << 40),
                .model(
                    DynamicModel(
                        name: "decoder", table: table, fixed: ["heads": 4],
                        drawn: ["seq": Phased(perPhase: everyDistribution)],
                        fromRequest: ["seq": RequestUse(parameter: "context", plusIterationOf: "decode")])),
                .model(
                    DynamicModel(
                        name: "backbone", table: convs, fixed: [:], drawn: [:],
                        fromRequest: ["x": RequestUse(parameter: "y")])),
            ] + vectors.map { .vector(name: "v", $0) }
        let spec = TensorSpec(shape: [.fixed(1), .symbol("n"), .fixed(768)], dtype: .bf16)
        var blocks = [
            WorkflowBlock(
                name: "work",
                kind: .task(
                    TaskBlock(
                        operations: operations, outputBytes: 1536, next: .block(1), input: spec, output: spec,
                        function: .detect(maxObjects: 5)))),
            WorkflowBlock(
                name: "branch",
                kind: .control(
                    .branch(
                        Decision(probability: Phased(perPhase: [0.25, 0.75]), predicate: .maxAbove(0.5)),
                        then: .block(2),
                        otherwise: .end))),
            WorkflowBlock(
                name: "loop",
                kind: .control(
                    .loop(
                        body: 0, exit: .block(3), bound: .trips(Phased(.poisson(mean: 3, max: 8))),
                        until: .argmaxIn([1, 50256]), max: 8))),
            WorkflowBlock(
                name: "again",
                kind: .control(
                    .loop(body: 0, exit: .block(4), bound: .continueProbability(Phased(0.9)), until: nil, max: 256))),
            WorkflowBlock(
                name: "each",
                kind: .control(
                    .forEach(
                        body: 5, join: 6, count: Phased(.uniform(low: 0, high: 4)),
                        countFrom: .rowsWhere(column: 4, above: 0.5)))),
            WorkflowBlock(
                name: "rows",
                kind: .control(.forEach(body: 7, join: 6, count: Phased(.choice([2])), countFrom: .rows))),
            WorkflowBlock(name: "all", kind: .control(.join(.all, next: .block(7)))),
            WorkflowBlock(name: "both", kind: .control(.parallel(branches: [8, 9], join: 10))),
            WorkflowBlock(
                name: "quit",
                kind: .control(
                    .exit(
                        Decision(probability: Phased(0.1), predicate: .anyRowAbove(column: 2, threshold: -1.5)),
                        otherwise: .block(10)))),
            WorkflowBlock(
                name: "stop",
                kind: .control(
                    .exit(
                        Decision(probability: Phased(0), predicate: .anyRowBelow(column: 0, threshold: 3)),
                        otherwise: .block(10)))),
            WorkflowBlock(name: "any", kind: .control(.join(.any, next: .end))),
        ]
        let kernels: [FunctionalKernel] =
            [.nms(iou: 0.5, threshold: 0.25), .classify(classes: 10)]
            + FunctionalKernel.Activation.allCases.map { .dense(activation: $0) }
        for (index, kernel) in kernels.enumerated() {
            blocks.append(
                WorkflowBlock(
                    name: "kernel\(index)",
                    kind: .task(
                        TaskBlock(
                            operations: [.fixed(name: "k", cycles: 1)], outputBytes: 0, next: .end,
                            output: TensorSpec([2], dtype: DType.allCases[index % DType.allCases.count]),
                            function: kernel))))
        }
        blocks.append(
            WorkflowBlock(
                name: "predicate",
                kind: .control(
                    .branch(Decision(probability: Phased(1), predicate: .maxBelow(-2)), then: .end, otherwise: .end))))
        var graph = WorkflowGraph(
            name: "every-case", description: "every case — with some UTF-8", blocks: blocks, entry: 0, inputBytes: 4320,
            input: TensorSpec([2, 36, 60], dtype: .uint8),
            generator: .scene(
                objects: Phased(perPhase: [.poisson(mean: 1, max: 4), .poisson(mean: 6, max: 12)]),
                classProbabilities: Phased(perPhase: [[0.5, 0.5], [0.1, 0.2, 0.7]])),
            phases: PhaseSchedule(
                phases: [
                    .init(name: "quiet", durationCycles: 1_000_000), .init(name: "busy", durationCycles: 2_000_000),
                ],
                repeats: true),
            deadlineCycles: 16_666_667)
        graph.group = "examples"
        graph.requestParameters = [
            RequestParameter(name: "context", values: .uniform(low: 1, high: 4096)),
            RequestParameter(name: "z", values: .choice([7])),
        ]
        graph.requestTrips = [2: "context", 3: "z"]
        return graph
    }

    func testEveryCaseRoundTrips() throws {
        let graph = try Self.everyCase()
        var plain = graph
        plain.name = "plain"
        plain.generator = .random
        plain.input = nil
        plain.deadlineCycles = nil
        plain.group = nil
        plain.phases = .constant
        let library = WorkflowLibrary([graph, plain])
        let (decoded, bytes) = try Self.roundTrip(library)
        XCTAssertEqual(decoded, library)
        XCTAssertEqual(try Self.roundTrip(decoded).1, bytes)
        // The tables are parsed again on arrival: they evaluate as the originals do.
        guard case .task(let task) = decoded.workflows[0].blocks[0].kind, case .model(let model) = task.operations[3]
        else {
            return XCTFail("the first block's fourth operation is the model")
        }
        XCTAssertEqual(try model.table.layers(["seq": 9]), try table(of: graph).layers(["seq": 9]))
    }

    private func table(of graph: WorkflowGraph) throws -> TopologyTable {
        guard case .task(let task) = graph.blocks[0].kind, case .model(let model) = task.operations[3] else {
            throw XCTSkip("no model operation")
        }
        return model.table
    }

    static func setup() throws -> ClusterProtocol.Setup {
        ClusterProtocol.Setup(
            config: try WaferConfigLoader.load(path: root + "/Configs/wafers/default.yaml"),
            library: WorkflowLibrary([try everyCase()]), scheduler: "octopus", functional: true)
    }

    func testSetupRoundTripsAndEveryTruncationIsAnError() throws {
        let setup = try Self.setup()
        let body = try ClusterProtocol.encode(setup)
        XCTAssertEqual(try ClusterProtocol.decodeSetup(body), setup)
        let shipped = ClusterProtocol.Setup(
            config: setup.config, library: try WorkflowLibrary.load(directory: Self.root + "/Configs/workflows"),
            scheduler: "static", functional: false)
        XCTAssertEqual(try ClusterProtocol.decodeSetup(try ClusterProtocol.encode(shipped)), shipped)
        for cut in 0..<body.count {
            XCTAssertThrowsError(try ClusterProtocol.decodeSetup(Array(body.prefix(cut))), "cut at \(cut)") { error in
                XCTAssert(error is WireError, "cut at \(cut): \(error)")
            }
        }
        XCTAssertThrowsError(try ClusterProtocol.decodeSetup(body + [0]), "a trailing byte")
    }

    /// A table is checked as when its file is read: a malformed one is an error naming it.
    func testAMalformedTableIsAnErrorNamingIt() throws {
        func table(cells: [String], parameters: [String: Int] = [:]) -> [UInt8] {
            var w = ByteWriter()
            w.string("broken.csv")
            w.dictionary(parameters) { $0.int($1) }
            w.count(1)
            w.int(3)
            w.string("qkv")
            w.count(cells.count)
            for cell in cells { w.string(cell) }
            return w.bytes
        }
        for (cells, parameters, says) in [
            (["1", "2"], [:], "has 2 values"), (["1", "seq", "3"], [:], "seq"), (["1", "2", "0"], [:], "positive"),
            (["1", "2", "(x"], ["x": 1], "broken.csv"), (["9223372036854775807 * 2", "1", "1"], [:], "broken.csv"),
        ] as [([String], [String: Int], String)] {
            var r = ByteReader(table(cells: cells, parameters: parameters))
            XCTAssertThrowsError(try TopologyTable(from: &r), "\(cells)") { error in
                XCTAssert(error is WireError, "\(error)")
                XCTAssert("\(error)".contains("topology table broken.csv"), "\(error)")
                XCTAssert("\(error)".contains(says), "\(cells): \(error)")
            }
        }
        var good = ByteReader(table(cells: ["seq", "2", "3"], parameters: ["seq": 4]))
        XCTAssertEqual(try TopologyTable(from: &good).layers(), [.gemm(name: "qkv", m: 4, n: 2, k: 3)])
    }

    /// Seeded mutations of a SETUP body: the decoder throws or returns a setup, never traps.
    func testMutatedSetupsNeverTrapTheDecoder() throws {
        let body = try ClusterProtocol.encode(try Self.setup())
        var rng = SplitMix64(keys: UInt64(ProcessInfo.processInfo.environment["OCTOPUS_FUZZ_SEED"] ?? "") ?? 1, 17)
        var decoded = 0
        for _ in 0..<3_000 {
            let bytes = mutated(body, &rng)
            if (try? ClusterProtocol.decodeSetup(bytes)) != nil { decoded += 1 }
        }
        XCTAssertGreaterThan(decoded, 0, "some flips land in fields any value of which is valid")
    }
}
