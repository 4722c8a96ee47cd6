import Foundation
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

    func testTraceSnapshotsAreNamesInsideTheOutputDirectory() throws {
        XCTAssertEqual(try ControlProtocol.snapshotName("now.json"), "now.json")
        XCTAssertNil(try ControlProtocol.snapshotName(nil))
        for bad in [
            "/tmp/x.json", "../x.json", "a/b.json", ".x.json", "x.txt", "trace.json", "summary.json", "wafer.json", "",
        ] {
            XCTAssertThrowsError(try ControlProtocol.snapshotName(bad), bad) { error in
                XCTAssertEqual((error as? ConfigError)?.field, "path")
            }
        }
    }

    func testReplayFilesFromAControlMessageStayInsideTheDataDirectory() throws {
        let directory = NSTemporaryDirectory() + "octopus-datadir-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory + "/traces", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "0\n10\n20\n".write(toFile: directory + "/traces/a.csv", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/escape.csv", withDestinationPath: "/etc/passwd")
        func inject(_ file: String, dataDirectory: String?) throws -> Injection {
            guard
                case .inject(let node) = try parse(
                    #"{"cmd": "inject", "workflow": "w", "arrival": {"process": "replay", "file": "\#(file)"}}"#)
            else { throw XCTSkip("not an inject") }
            return try Injection.parse(
                node, defaultStart: 0, alsoAllowed: ["cmd"], replayFiles: .confined(to: dataDirectory))
        }
        XCTAssertEqual(try inject("traces/a.csv", dataDirectory: directory).count, 3)
        for (file, message) in [
            ("traces/a.csv", "--data-dir"), ("/etc/passwd", "relative path"), ("../etc/passwd", "relative path"),
            ("escape.csv", "leads outside"),
        ] {
            XCTAssertThrowsError(try inject(file, dataDirectory: file == "traces/a.csv" ? nil : directory)) { error in
                XCTAssertTrue("\(error)".contains(message), "\(file): \(error)")
                XCTAssertFalse("\(error)".contains("root:"), "an error quoted the file")
            }
        }
    }

    func testTheRateLimiterAdmitsBurstsThenTheSustainedRate() {
        var limiter = RequestRateLimiter(burst: 3, perSecond: 2, clients: 2)
        let client = Array("a".utf8)
        XCTAssertEqual((0..<5).map { _ in limiter.admit(client, now: 0) }, [true, true, true, false, false])
        XCTAssertEqual(limiter.refused, 2)
        XCTAssertTrue(limiter.admit(client, now: 0.5))  // one token back after half a second
        XCTAssertFalse(limiter.admit(client, now: 0.5))
        XCTAssertTrue(limiter.admit(Array("b".utf8), now: 0.5), "another connection has its own bucket")
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

    /// A cluster's registration names its host (and its process): names a log can print as they
    /// are, or the registration is refused.
    func testRegistrationNamesArePrintable() {
        func problem(host: String, process: String? = nil) -> String? {
            var registration = ClusterProtocol.Registration(
                cluster: 0, pid: 1, host: host, wire: ClusterProtocol.version)
            registration.process = process
            return registration.nameProblem
        }
        XCTAssertNil(problem(host: "node-17.cluster.example"))
        XCTAssertNil(problem(host: "wafer-b", process: "f3a9c2"))
        XCTAssertNil(problem(host: "hôte-été"), "names need not be ASCII")
        XCTAssertNil(problem(host: String(repeating: "h", count: 255)))
        XCTAssertNotNil(problem(host: String(repeating: "h", count: 256)))
        XCTAssertNotNil(problem(host: ""))
        XCTAssertNotNil(problem(host: "box\noctopus: all 4 clusters ready"))
        XCTAssertNotNil(problem(host: "\u{1b}[2J"))
        XCTAssertNotNil(problem(host: "a\u{202e}b"), "bidirectional overrides reorder what a log shows")
        XCTAssertNotNil(problem(host: "ok", process: "\u{7}"))
    }
}
