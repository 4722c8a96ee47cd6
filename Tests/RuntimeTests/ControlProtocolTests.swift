import WaferModel
import XCTest

@testable import Runtime

final class ControlProtocolTests: XCTestCase {
    func parse(_ text: String) throws -> ControlProtocol.Request { try ControlProtocol.parse(Array(text.utf8)) }

    func testValidRequests() throws {
        guard case .status = try parse(#"{"cmd": "status"}"#) else { return XCTFail() }
        guard case .trace(let path) = try parse(#"{"cmd": "trace", "path": "/tmp/x.json"}"#) else { return XCTFail() }
        XCTAssertEqual(path, "/tmp/x.json")
        guard
            case .inject(let node) = try parse(
                #"{"cmd": "inject", "workflow": "w", "count": 3, "arrival": {"process": "poisson", "mean_interval_cycles": 50}}"#
            )
        else {
            return XCTFail()
        }
        let injection = try Injection.parse(node, defaultStart: 1000, alsoAllowed: ["cmd"])
        XCTAssertEqual(
            injection, Injection(workflow: "w", count: 3, arrival: .poisson(meanInterval: 50), start: 1000, seed: 1))
    }

    func testBadRequestsNameTheProblem() {
        let cases: [(String, String)] = [
            ("status", "expected a JSON object"),
            (#"{"cmd": "launch"}"#, "unknown command 'launch'"),
            (#"{"verb": "status"}"#, "unknown field"),
            (#"{"count": 1}"#, "cmd: missing required field"),
            (#"{"cmd": "status", "count": 2}"#, "'status' takes no field 'count'"),
            (#"{"cmd": "inject", "workflow": "w", "count": "many"#, "invalid YAML"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(text) → \(error)")
            }
        }
        XCTAssertThrowsError(try ControlProtocol.parse([0xFF, 0xFE]))
    }

    func testEndpointsRefuseNonLoopbackAndNonsense() {
        XCTAssertNoThrow(try Endpoints.check("tcp://127.0.0.1:5570", what: "x"))
        XCTAssertNoThrow(try Endpoints.check("tcp://localhost:*", what: "x"))
        XCTAssertNoThrow(try Endpoints.check("ipc:///tmp/a", what: "x"))
        for bad in [
            "tcp://0.0.0.0:5570", "tcp://10.1.2.3:1", "udp://127.0.0.1:1", "tcp://127.0.0.1", "tcp://127.0.0.1:http",
            "ipc://",
        ] {
            XCTAssertThrowsError(try Endpoints.check(bad, what: "--listen"), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("--listen"), "\(error)")
            }
        }
    }
}
