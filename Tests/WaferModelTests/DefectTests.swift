import XCTest

@testable import WaferModel

/// Defective clusters, TBUs and links: parsing, the routes around them, and what schedulers see.
final class DefectTests: XCTestCase {
    /// The shipped example: 3×3, centre cluster dead, TBU 0 of cluster 2 dead, link 0–1 dead.
    func defective() throws -> WaferConfig {
        try WaferConfigLoader.load(path: repositoryRoot + "/Configs/wafers/defective-3x3.yaml")
    }

    func path(_ mesh: Mesh, from a: Int, to b: Int) -> [Int] {
        [a] + mesh.route(from: a, to: b).map { mesh.link($0).to }
    }

    func testRoutesGoAroundDeadLinksAndDeadRouters() throws {
        let mesh = try defective().mesh
        // 0 → 1 cannot take its dead link, and the shortest detour through the dead centre is closed.
        XCTAssertEqual(path(mesh, from: 0, to: 1), [0, 3, 6, 7, 8, 5, 2, 1])
        XCTAssertEqual(mesh.hops(from: 0, to: 1).intra, 7)
        XCTAssertEqual(mesh.transferLatency(from: 0, to: 1, bytes: 64), 7 * 20 + 1)
        // Across the dead centre: same length as the XY route would be, around it.
        XCTAssertEqual(path(mesh, from: 3, to: 5), [3, 6, 7, 8, 5])
        // Where the XY route is open it is taken unchanged.
        XCTAssertEqual(path(mesh, from: 6, to: 2), [6, 7, 8, 5, 2])
        XCTAssertEqual(path(mesh, from: 1, to: 2), [1, 2])
        for a in 0..<9 where mesh.hostsWork(a) {
            for b in 0..<9 where mesh.hostsWork(b) && a != b {
                let nodes = path(mesh, from: a, to: b)
                XCTAssertEqual(nodes.last, b)
                XCTAssertFalse(nodes.contains(4), "route \(a) → \(b) passes the dead cluster: \(nodes)")
                for (u, v) in zip(nodes, nodes.dropFirst()) {
                    XCTAssertNotEqual(Set([u, v]), Set([0, 1]), "route \(a) → \(b) takes the dead link")
                    XCTAssertTrue(mesh.adjacent(to: u).contains(v))
                }
            }
        }
    }

    func testSchedulersSeeOnlyWorkingParts() throws {
        let mesh = try defective().mesh
        XCTAssertFalse(mesh.hostsWork(4))
        XCTAssertEqual(mesh.workingTBUs(of: 4), 0)
        XCTAssertEqual(mesh.workingTBUs(of: 2), 3)
        XCTAssertEqual((0..<3).map { mesh.physicalTBU($0, of: 2) }, [1, 2, 3], "TBU 0 of cluster 2 is dead")
        XCTAssertEqual(mesh.totalWorkingTBUs, 8 * 4 - 1)
        XCTAssertEqual(mesh.neighbours(of: 0), [3], "not 1 (dead link)")
        XCTAssertEqual(mesh.neighbours(of: 1), [2], "not 0 (dead link) nor 4 (dead)")
        XCTAssertEqual(mesh.adjacent(to: 1), [0, 2, 4])
    }

    func testWithoutDefectsNothingChanges() throws {
        let mesh = try WaferConfigLoader.parse("mesh: {rows: 3, columns: 3}\n", file: "w.yaml").mesh
        XCTAssertEqual(path(mesh, from: 0, to: 8), [0, 1, 2, 5, 8], "XY")
        XCTAssertEqual(mesh.totalWorkingTBUs, 36)
        XCTAssertEqual(mesh.neighbours(of: 4), [1, 3, 5, 7])
    }

    func testYieldRatesDrawTheSameDefectsFromTheSameSeed() throws {
        func draw(_ seed: Int) throws -> WaferDefects {
            try WaferConfigLoader.parse(
                """
                mesh: {rows: 8, columns: 8}
                defects:
                  yield: {clusters: 0.05, tbus: 0.1, links: 0.03, seed: \(seed)}
                """, file: "y.yaml"
            ).defects
        }
        let first = try draw(3)
        XCTAssertEqual(first, try draw(3))
        XCTAssertFalse(first.isEmpty)
        XCTAssertFalse(first.tbus.isEmpty, "about 25 of 256 TBUs")
        XCTAssertNotEqual(first, try draw(4))
        XCTAssertTrue(
            first.tbus.allSatisfy { !first.clusters.contains($0.cluster) }, "a dead cluster's TBUs are not listed again"
        )
        let none = try WaferConfigLoader.parse(
            "mesh: {rows: 4, columns: 4}\ndefects:\n  yield: {clusters: 0, tbus: 0, links: 0}\n", file: "n.yaml")
        XCTAssertTrue(none.defects.isEmpty)
    }

    func testBadDefectsAreLocatedErrors() {
        let cases: [(String, String)] = [
            ("defects:\n  links: [[0, 4]]\n", "not neighbours"),
            ("defects:\n  clusters: [9]\n", "between 0 and 8"),
            ("defects:\n  tbus: [{cluster: 1, tbu: 4}]\n", "between 0 and 3"),
            ("defects:\n  links: [[0, 1], [0, 3]]\n", "cut the mesh"),
            ("defects:\n  clusters: [0, 1, 2, 3, 4, 5, 6, 7, 8]\n", "no cluster is left"),
            ("defects:\n  yield: {links: 1.5}\n", "probability"),
            ("defects:\n  broken: [1]\n", "unknown field"),
        ]
        for (defects, message) in cases {
            let yaml = "mesh: {rows: 3, columns: 3}\n" + defects
            XCTAssertThrowsError(try WaferConfigLoader.parse(yaml, file: "d.yaml"), defects) { error in
                let e = error as! ConfigError
                XCTAssertTrue(e.message.contains(message), "\(defects): \(e.message)")
                XCTAssertEqual(e.line, 3, "the line of the defects' entries: \(defects): \(e.description)")
            }
        }
    }
}
