import XCTest

@testable import WaferModel

final class MeshTests: XCTestCase {
    /// 4×4 clusters, dies of 2×2: a hop from column 1 to 2 (or row 1 to 2) crosses a die boundary.
    func mesh() throws -> Mesh {
        try WaferConfigLoader.parse(
            """
            mesh: {rows: 4, columns: 4, die_rows: 2, die_columns: 2}
            links:
              intra_die: {hop_latency_cycles: 20, bandwidth_bytes_per_cycle: 64}
              inter_die: {hop_latency_cycles: 200, bandwidth_bytes_per_cycle: 16}
            """, file: "m.yaml"
        ).mesh
    }

    func testPositionsAndDies() throws {
        let m = try mesh()
        XCTAssertEqual(m.position(of: 6).row, 1)
        XCTAssertEqual(m.position(of: 6).column, 2)
        XCTAssertEqual(m.die(of: 6).row, 0)
        XCTAssertEqual(m.die(of: 6).column, 1)
        XCTAssertEqual(m.id(row: 3, column: 1), 13)
    }

    func testHopsSplitByDieBoundary() throws {
        let m = try mesh()
        // 0 (0,0) → 15 (3,3): X 0→1 intra, 1→2 inter, 2→3 intra; Y likewise.
        let h = m.hops(from: 0, to: 15)
        XCTAssertEqual(h.intra, 4)
        XCTAssertEqual(h.inter, 2)
        XCTAssertEqual(m.distance(from: 0, to: 15), 6)
        XCTAssertEqual(m.distance(from: 5, to: 5), 0)
        XCTAssertEqual(m.hops(from: 15, to: 0).inter, 2, "routes are symmetric in hop counts")
    }

    func testTransferLatency() throws {
        let m = try mesh()
        XCTAssertEqual(m.transferLatency(from: 3, to: 3, bytes: 1_000_000), 0)
        // 0 → 1: one intra-die hop, 640 bytes at 64 B/cycle = 10 cycles.
        XCTAssertEqual(m.transferLatency(from: 0, to: 1, bytes: 640), 20 + 10)
        // 0 → 2: one intra + one inter hop; narrowest link is 16 B/cycle: ⌈100/16⌉ = 7.
        XCTAssertEqual(m.transferLatency(from: 0, to: 2, bytes: 100), 20 + 200 + 7)
    }

    /// A table of transfers from one cluster equals the mesh's own latency for every destination
    /// and size, on a mesh of two link kinds and around defects.
    func testTransferTableEqualsTheMeshsLatency() throws {
        let defective = try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/defective-3x3.yaml").mesh
        let sizes: [UInt64] = [0, 1, 15, 16, 17, 63, 64, 65, 100, 4_096, 1_000_003, UInt64.max / 3, .max]
        for m in [try mesh(), defective] {
            for origin in 0..<m.count {
                let table = TransferTable(mesh: m, origin: origin)
                XCTAssertEqual(table.origin, origin)
                for bytes in sizes {
                    let sizing = table.sizing(bytes: bytes)
                    for cluster in 0..<m.count {
                        XCTAssertEqual(
                            table.latency(to: cluster, sizing),
                            m.transferLatency(from: origin, to: cluster, bytes: bytes),
                            "\(origin) → \(cluster), \(bytes) bytes")
                    }
                }
            }
        }
        // Both kinds of link and both together appear on the 4×4 mesh (the cases above differ).
        let table = TransferTable(mesh: try mesh(), origin: 0)
        let sizing = table.sizing(bytes: 100)
        XCTAssertEqual(table.latency(to: 1, sizing), 20 + 2)
        XCTAssertEqual(table.latency(to: 2, sizing), 20 + 200 + 7)
        XCTAssertEqual(table.latency(to: 0, sizing), 0)
    }

    /// XY routes: along the row first, then the column; one link per hop, each naming the
    /// neighbours it joins and whether it crosses a die boundary.
    func testRoutesFollowXYOrderOneLinkPerHop() throws {
        let m = try mesh()
        let route = m.route(from: 0, to: 15).map { m.link($0) }
        XCTAssertEqual(route.map(\.from), [0, 1, 2, 3, 7, 11])
        XCTAssertEqual(route.map(\.to), [1, 2, 3, 7, 11, 15])
        XCTAssertEqual(route.map(\.interDie), [false, true, false, false, true, false])
        XCTAssertEqual(m.route(from: 9, to: 9), [])
        for a in 0..<m.count {
            for b in 0..<m.count {
                let links = m.route(from: a, to: b)
                XCTAssertEqual(links.count, m.distance(from: a, to: b))
                XCTAssertEqual(links.filter { m.link($0).interDie }.count, m.hops(from: a, to: b).inter)
                XCTAssertEqual(Set(links).count, links.count, "a route never uses a link twice")
            }
        }
        // The two directions of one wire are different links.
        XCTAssertNotEqual(m.linkIndex(from: 5, to: 6), m.linkIndex(from: 6, to: 5))
    }

    /// The hop counts come from a table of grid positions, the routes from walking the mesh: they
    /// agree on meshes of other shapes and die sizes too.
    func testHopsEqualTheRouteWalkOnSeveralShapes() throws {
        for (rows, columns, dieRows, dieColumns) in [
            (6, 9, 2, 3), (3, 8, 3, 1), (8, 8, 4, 4), (1, 10, 1, 2), (8, 12, 2, 4),
        ] {
            let text = "mesh: {rows: \(rows), columns: \(columns), die_rows: \(dieRows), die_columns: \(dieColumns)}"
            let m = try WaferConfigLoader.parse(text, file: "m.yaml").mesh
            for a in 0..<m.count {
                for b in 0..<m.count {
                    let links = m.route(from: a, to: b).map { m.link($0) }
                    let h = m.hops(from: a, to: b)
                    XCTAssertEqual(h.inter, links.filter(\.interDie).count, "\(rows)×\(columns) \(a)→\(b)")
                    XCTAssertEqual(h.intra, links.filter { !$0.interDie }.count, "\(rows)×\(columns) \(a)→\(b)")
                }
            }
        }
    }

    func testNeighbours() throws {
        let m = try mesh()
        XCTAssertEqual(m.neighbours(of: 0), [1, 4])
        XCTAssertEqual(m.neighbours(of: 5), [1, 4, 6, 9])
        XCTAssertEqual(m.neighbours(of: 15), [11, 14])
    }
}
