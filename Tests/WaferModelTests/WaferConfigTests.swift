import XCTest

@testable import WaferModel

final class WaferConfigTests: XCTestCase {
    func testDefaultsFillEverythingButTheMesh() throws {
        let config = try WaferConfigLoader.parse("mesh: {rows: 2, columns: 3}\n", file: "w.yaml")
        XCTAssertEqual(config.clusterCount, 6)
        XCTAssertEqual(config.dieRows, 2, "no die size given: the whole wafer is one die")
        XCTAssertEqual(config.dieColumns, 3)
        XCTAssertEqual(config.cluster.tbus, 4)
        XCTAssertEqual(config.cluster.peArray.dataflow, .os)
        XCTAssertEqual(config.sync.mode, .exact)
        XCTAssertEqual(config.clockMHz, 1000)
    }

    func testShippedWafersParse() throws {
        for name in ["default", "small-2x2", "small-2x2-quantum"] {
            let config = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/\(name).yaml")
            XCTAssertGreaterThanOrEqual(config.clusterCount, 4, name)
        }
    }

    func testUnknownFieldNamesFileLineAndField() {
        let yaml = """
            mesh: {rows: 2, columns: 2}
            cluster:
              tbus: 4
              pe_aray: {rows: 8}
            """
        XCTAssertThrowsError(try WaferConfigLoader.parse(yaml, file: "bad.yaml")) { error in
            let e = error as! ConfigError
            XCTAssertEqual(e.file, "bad.yaml")
            XCTAssertEqual(e.line, 4)
            XCTAssertEqual(e.field, "cluster.pe_aray")
            XCTAssertTrue(e.message.contains("unknown field"), e.message)
            XCTAssertTrue(e.description.hasPrefix("bad.yaml:4: cluster.pe_aray:"), e.description)
        }
    }

    func testWrongTypeAndRange() {
        XCTAssertThrowsError(try WaferConfigLoader.parse("mesh: {rows: two, columns: 2}", file: "t.yaml")) { error in
            let e = error as! ConfigError
            XCTAssertEqual(e.field, "mesh.rows")
            XCTAssertTrue(e.message.contains("expected an integer"), e.message)
        }
        XCTAssertThrowsError(try WaferConfigLoader.parse("mesh: {rows: 0, columns: 2}", file: "t.yaml")) { error in
            XCTAssertEqual((error as! ConfigError).field, "mesh.rows")
        }
        XCTAssertThrowsError(
            try WaferConfigLoader.parse(
                "mesh: {rows: 2, columns: 2}\ncluster: {pe_array: {dataflow: xs}}", file: "t.yaml")
        ) { error in
            let e = error as! ConfigError
            XCTAssertEqual(e.field, "cluster.pe_array.dataflow")
            XCTAssertTrue(e.message.contains("os, ws, is"), e.message)
        }
        // A file that is not YAML of a mapping (a CSV table, say) reads as one long scalar: the
        // error quotes its beginning, not all of it.
        let table =
            "request,workflow,status\n" + (0..<500).map { "\($0),detect-classify,completed" }.joined(separator: "\n")
        XCTAssertThrowsError(try WaferConfigLoader.parse(table, file: "t.csv")) { error in
            let message = (error as! ConfigError).message
            XCTAssertTrue(message.hasPrefix("expected a mapping, found 'request,workflow,status"), message)
            XCTAssertTrue(message.hasSuffix("characters)"), message)
            XCTAssertLessThan(message.count, 150, message)
        }
    }

    func testMissingMeshAndBadDieTiling() {
        XCTAssertThrowsError(try WaferConfigLoader.parse("name: x", file: "t.yaml")) { error in
            XCTAssertEqual((error as! ConfigError).field, "mesh")
        }
        XCTAssertThrowsError(try WaferConfigLoader.parse("mesh: {rows: 4, columns: 4, die_rows: 3}", file: "t.yaml")) {
            error in
            let e = error as! ConfigError
            XCTAssertEqual(e.field, "mesh.die_rows")
            XCTAssertTrue(e.message.contains("divide"), e.message)
        }
    }

    func testYAMLSyntaxErrorHasLine() {
        XCTAssertThrowsError(try WaferConfigLoader.parse("mesh:\n  rows: [1, 2\n", file: "s.yaml")) { error in
            let e = error as! ConfigError
            XCTAssertNotNil(e.line)
            XCTAssertTrue(e.message.hasPrefix("invalid YAML"), e.message)
        }
    }

    func testMissingFileIsAConfigError() {
        XCTAssertThrowsError(try WaferConfigLoader.load(path: "/nonexistent/w.yaml")) { error in
            XCTAssertEqual((error as! ConfigError).file, "/nonexistent/w.yaml")
        }
    }

    func testLookaheadIsTheSmallestInterProcessLatency() throws {
        var config = try WaferConfigLoader.parse(
            """
            mesh: {rows: 2, columns: 2, die_rows: 1, die_columns: 2}
            links:
              intra_die: {hop_latency_cycles: 30}
              inter_die: {hop_latency_cycles: 300}
              control_latency_cycles: 100
            """, file: "l.yaml")
        XCTAssertEqual(config.lookahead, 30)
        config.controlLatency = 10
        XCTAssertEqual(config.lookahead, 10)
        // One cluster per die: every hop crosses a die boundary, so intra-die latency does not count.
        config.controlLatency = 1000
        config.dieRows = 1
        config.dieColumns = 1
        XCTAssertEqual(config.lookahead, 300)
    }
}

/// The repository root, found from this file's location.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
