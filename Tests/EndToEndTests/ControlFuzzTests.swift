import Emulation
import Foundation
import WaferModel
import XCTest
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// Structured fuzzing of a live wafer's sockets: every field of every control command with
/// extreme, wrong-typed, missing and huge values, random frames, an oversized message and a flood
/// on the control socket, and garbage on the cluster socket. Each control request must get an
/// `ok` reply (or, beyond the size limit, be dropped), the coordinator must never die, and the
/// wafer must afterwards still answer `status`, run a valid injection to completion and stop
/// with a complete summary. Seeded by `OCTOPUS_FUZZ_SEED` (default 1).
final class ControlFuzzTests: XCTestCase {
    static let seed = UInt64(ProcessInfo.processInfo.environment["OCTOPUS_FUZZ_SEED"] ?? "") ?? 1

    /// JSON values for a field: wrong types, out of range, huge. Values a field accepts are all
    /// cheap (the base request injects one request now), so accepted fuzz cannot bury the wafer.
    static let extremes: [String] = [
        "null", "true", "-1", "0", "1.5", "-0.0", "1e30", "1e400", "-1e400", "9223372036854775807",
        "18446744073709551616", "281474976710657", "\"\"", "\"x\"", "[]", "{}", "[1, 2]", "{\"a\": 1}",
        "\"\\u0000\"", "\"" + String(repeating: "w", count: 100_000) + "\"",
        String(repeating: "[", count: 300) + String(repeating: "]", count: 300), "\"*alias\"", "\"&anchor x\"",
    ]

    /// Fields of each arrival process, fuzzed inside an otherwise valid inject.
    static let arrivalFields: [String: [String]] = [
        "periodic": ["period_cycles", "jitter_cycles"], "poisson": ["mean_interval_cycles"],
        "onoff": ["mean_interval_cycles", "on_cycles", "off_cycles"], "markov": ["states"],
        "replay": ["file", "times_cycles", "column"], "burst": [],
    ]
    static let validArrivals: [String: String] = [
        "periodic": #""period_cycles": 1000, "jitter_cycles": 10"#, "poisson": #""mean_interval_cycles": 1000"#,
        "onoff": #""mean_interval_cycles": 100, "on_cycles": 1000, "off_cycles": 1000"#,
        "markov":
            #""states": [{"mean_interval_cycles": 100, "mean_dwell_cycles": 10000}, {"mean_interval_cycles": 1000, "mean_dwell_cycles": 10000}]"#,
        "replay": #""times_cycles": [0, 10, 20]"#, "burst": "",
    ]

    /// The requests of the structured fuzz: each field of each command set to each extreme.
    static func structuredRequests() -> [String] {
        var requests: [String] = []
        let inject: [String: String] = [
            "workflow": "\"detect-classify\"", "count": "1", "seed": "3", "arrival": #"{"process": "burst"}"#,
        ]
        func object(_ fields: [String: String]) -> String {
            "{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
        }
        for field in ["workflow", "count", "arrival", "start_cycle", "seed", "definition", "cmd", "nonsense"] {
            for value in extremes {
                var fields = inject.merging(["cmd": "\"inject\""]) { $1 }
                fields[field] = value
                requests.append(object(fields))
            }
            // The field missing.
            var fields = inject.merging(["cmd": "\"inject\""]) { $1 }
            fields[field] = nil
            requests.append(object(fields))
        }
        for (process, names) in arrivalFields.sorted(by: { $0.key < $1.key }) {
            for name in names + ["process", "unknown_field"] {
                for value in extremes {
                    var arrival = validArrivals[process]!.isEmpty ? [String]() : [validArrivals[process]!]
                    arrival = arrival.filter { !$0.contains("\"\(name)\"") }
                    let process = name == "process" ? value : "\"\(process)\""
                    let body =
                        (["\"process\": \(process)"] + arrival + (name == "process" ? [] : ["\"\(name)\": \(value)"]))
                        .joined(separator: ", ")
                    requests.append(object(inject.merging(["cmd": "\"inject\"", "arrival": "{\(body)}"]) { $1 }))
                }
            }
        }
        for command in ["status", "trace", "drain", "stop"] {
            for value in extremes.prefix(12) {
                requests.append(#"{"cmd": "\#(command)", "path": \#(value)}"#)
                requests.append(#"{"cmd": "\#(command)", "extra": \#(value)}"#)
            }
        }
        return requests
    }

    /// Random frames: bytes, broken JSON, deep nesting, YAML that is not JSON.
    static func randomRequests(count: Int, rng: inout SplitMix64) -> [[UInt8]] {
        let pieces = [
            "{", "}", "[", "]", "\"cmd\"", ":", ",", "\"inject\"", "1e999", "&a", "*a", "!!binary", "\\", "\n", "é",
        ]
        return (0..<count).map { index in
            if index % 3 == 0 { return (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
            return Array(
                (0..<Int(rng.next() % 40)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined().utf8)
        }
    }

    /// Sends `request` on a fresh REQ socket round and returns the reply object (nil: no reply
    /// within `seconds`).
    func ask(_ context: Context, _ endpoint: String, _ request: [UInt8], seconds: Int = 20) throws -> [String: Any]? {
        let socket = try context.socket(.req)
        defer { socket.close() }
        try socket.connect(endpoint)
        try socket.send(request)
        var poller = Poller()
        poller.add(.socket(socket))
        guard try !poller.poll(timeoutMs: seconds * 1000).isEmpty, let frames = try socket.receive(dontWait: true)
        else {
            return nil
        }
        return (try? JSONSerialization.jsonObject(with: Data(frames.last ?? []))) as? [String: Any]
    }

    func testHostileControlAndClusterTrafficNeverDisturbsTheWafer() throws {
        let directory = try makeTemporaryDirectory("control-fuzz")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listen = "tcp://127.0.0.1:\(freePort())"
        let control = "tcp://127.0.0.1:\(freePort())"
        let out = directory + "/out"
        let coordinator = try Launched(
            [
                "coordinator", "--wafer", "Configs/wafers/small-2x2.yaml", "--listen", listen, "--control", control,
                "--out", out,
            ],
            in: directory, name: "coordinator")
        defer { if coordinator.process.isRunning { kill(coordinator.pid, SIGKILL) } }
        let context = try Context()

        // Garbage on the cluster socket before the clusters come: bad identities, bad frames, bad
        // registrations. None may register or bring the coordinator down.
        var rng = SplitMix64(keys: Self.seed, 7)
        for identity in [
            "cluster--1", "cluster-7", "cluster-x", "stranger", "cluster-0", "cluster-99999999999999999999",
        ] {
            let dealer = try context.socket(.dealer)
            try dealer.setRoutingID(identity)
            try dealer.connect(listen)
            for frames in Self.randomRequests(count: 20, rng: &rng) { try dealer.send([[1], frames]) }
            try dealer.send([[1], Array(#"{"cluster": 0, "pid": "x"}"#.utf8)])
            try dealer.send([[UInt8](repeating: 0xff, count: 9)])
            usleep(100_000)
            dealer.close()
        }
        let clusters = try (0..<4).map {
            try Launched(["cluster", "--coordinator", listen, "--id", "\($0)"], in: directory, name: "cluster\($0)")
        }
        defer { for cluster in clusters where cluster.process.isRunning { kill(cluster.pid, SIGKILL) } }
        XCTAssertTrue(
            eventually(30) {
                (try? self.ask(context, control, Array(#"{"cmd": "status"}"#.utf8)))??["clusters_registered"] as? Int
                    == 4
            }, coordinator.stderr)

        // Structured and random control requests: each gets an ok: true/false reply.
        var unanswered: [String] = []
        var accepted = 0
        let requests = Self.structuredRequests().map { Array($0.utf8) } + Self.randomRequests(count: 150, rng: &rng)
        for request in requests {
            guard let reply = try ask(context, control, request) else {
                unanswered.append(String(decoding: request.prefix(200), as: UTF8.self))
                XCTAssertTrue(coordinator.process.isRunning, "the coordinator died: \(coordinator.stderr)")
                if !coordinator.process.isRunning { return }
                continue
            }
            XCTAssertNotNil(reply["ok"] as? Bool, "\(reply)")
            if reply["ok"] as? Bool == true { accepted += 1 }
            if let error = reply["error"] as? String { XCTAssertFalse(error.isEmpty) }
        }
        XCTAssertGreaterThan(requests.count, 500)
        XCTAssertEqual(unanswered, [], "requests without a reply")
        XCTAssertGreaterThan(accepted, 0, "no fuzzed request was valid: the base request is broken")

        // A message over the size limit is refused before it is read; a flood is rate-limited.
        let big = try context.socket(.dealer)
        try big.connect(control)
        try big.send([[], [UInt8](repeating: UInt8(ascii: "a"), count: Limits.controlMessageBytes + 1)])
        let flood = try context.socket(.dealer)
        try flood.connect(control)
        for _ in 0..<2000 { try flood.send([[], Array(#"{"cmd": "status"}"#.utf8)]) }
        var floodReplies = 0
        var poller = Poller()
        poller.add(.socket(flood))
        while floodReplies < 2000, try !poller.poll(timeoutMs: 10_000).isEmpty {
            while try flood.receive(dontWait: true) != nil { floodReplies += 1 }
        }
        XCTAssertEqual(floodReplies, 2000, "every flooded request gets a reply (an answer or a refusal)")
        big.close()
        flood.close()

        // The wafer is undisturbed: it answers, runs a valid injection to the end and stops cleanly.
        let status = try XCTUnwrap(try ask(context, control, Array(#"{"cmd": "status"}"#.utf8)))
        XCTAssertGreaterThan(status["refused_requests"] as? Int ?? 0, 0, "the flood was not rate-limited: \(status)")
        XCTAssertGreaterThan(status["refused_injections"] as? Int ?? 0, 0, "\(status)")
        XCTAssertEqual(status["clusters_registered"] as? Int, 4)
        let injected = try XCTUnwrap(
            try ask(
                context, control,
                Array(
                    #"{"cmd": "inject", "workflow": "speech-cascade", "count": 20, "arrival": {"process": "poisson", "mean_interval_cycles": 5000}}"#
                        .utf8)))
        XCTAssertEqual(injected["ok"] as? Bool, true, "\(injected)")
        let drained = try XCTUnwrap(try ask(context, control, Array(#"{"cmd": "drain"}"#.utf8), seconds: 120))
        XCTAssertEqual(drained["drained"] as? Bool, true, "\(drained)")
        let stopped = try XCTUnwrap(try ask(context, control, Array(#"{"cmd": "stop"}"#.utf8), seconds: 60))
        XCTAssertEqual(stopped["stopped"] as? Bool, true)
        XCTAssertEqual(coordinator.wait(seconds: 60), 0, coordinator.stderr)
        let summary = try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
        XCTAssertEqual(summary.complete, true)
        XCTAssertEqual(summary.results.workflows["speech-cascade"]?.completed, 20)
        for cluster in clusters { XCTAssertEqual(cluster.wait(seconds: 20), 0, cluster.stderr) }
    }
}
