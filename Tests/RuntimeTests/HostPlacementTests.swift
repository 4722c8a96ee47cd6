import Runtime
import XCTest

final class HostPlacementTests: XCTestCase {
    func testRoundRobinAndSlots() throws {
        XCTAssertEqual(try HostPlacement(parsing: "a,b", clusters: 5).hosts, ["a", "b", "a", "b", "a"])
        let slotted = try HostPlacement(parsing: "a:1,b:3,c:4", clusters: 6)
        XCTAssertEqual(slotted.hosts, ["a", "b", "b", "b", "c", "c"])
        XCTAssertEqual(slotted.clusters(on: "b"), [1, 2, 3])
        XCTAssertEqual(slotted.description, ["a: clusters 0", "b: clusters 1, 2, 3", "c: clusters 4, 5"])
    }

    func testBadHostListsNameTheProblem() {
        let cases: [(String, String)] = [
            ("", "is not HOST or HOST:SLOTS"), ("a,,b", "is not HOST or HOST:SLOTS"), ("a:0", "whole number ≥ 1"),
            ("a:x", "whole number ≥ 1"), ("a:\(Int.max)", "≤ 65536"), ("a:65537", "≤ 65536"),
            ("a:2,b", "every host or for none"), ("a,a", "listed twice"),
            ("a:1,b:1", "2 slots for 4 clusters"), ("a b", "is not HOST or HOST:SLOTS"), ("a:1:2", "is not HOST"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try HostPlacement(parsing: text, clusters: 4), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(text): \(error)")
            }
        }
    }

    func testLaunchTemplatesQuoteTheCommand() throws {
        XCTAssertThrowsError(try LaunchTemplate.check("ssh {host}"))
        XCTAssertNoThrow(try LaunchTemplate.check("ssh {host} {command}"))
        let line = LaunchTemplate.expand(
            "ip netns exec {host} {command} # {id}", host: "ns-1", cluster: 7,
            arguments: ["/opt/octo pus/octopus", "cluster", "--keys", "it's"])
        XCTAssertEqual(line, "ip netns exec ns-1 '/opt/octo pus/octopus' cluster --keys 'it'\\''s' # 7")
        XCTAssertEqual(LaunchTemplate.quote(""), "''")
        XCTAssertEqual(LaunchTemplate.quote("tcp://10.0.0.1:5570"), "tcp://10.0.0.1:5570")
        XCTAssertEqual(LaunchTemplate.quote("$(rm -rf /)"), "'$(rm -rf /)'")
    }
}
