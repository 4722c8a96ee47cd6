import Emulation
import Foundation
import Scheduling
import XCTest
import ZeroMQ

@testable import Runtime

#if canImport(Glibc)
    import Glibc
#endif

/// A wafer started piece by piece, as a user would across hosts: a coordinator, four cluster
/// processes over tcp://127.0.0.1, driven through the control socket while it runs.
final class ManualWaferTests: XCTestCase {
    func ctl(_ arguments: [String], control: String, in directory: String, name: String) throws -> (
        Int32, [String: Any]
    ) {
        let result = try octopus(["ctl"] + arguments + ["--control", control], in: directory, name: name, seconds: 60)
        let object = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        return (result.status, object)
    }

    func testCoordinatorAndClustersDrivenThroughTheControlSocket() throws {
        let directory = try makeTemporaryDirectory("manual")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listen = "tcp://127.0.0.1:\(freePort())"
        let control = "tcp://127.0.0.1:\(freePort())"
        let out = directory + "/out"
        let coordinator = try Launched(
            [
                "coordinator", "--wafer", "Configs/wafers/small-2x2.yaml", "--listen", listen,
                "--control", control, "--out", out,
            ], in: directory, name: "coordinator")
        // Before all clusters have registered, status already answers.
        XCTAssertTrue(
            eventually(20) {
                (try? self.ctl(["status"], control: control, in: directory, name: "status0").1["state"] as? String)
                    == "waiting"
            })
        let clusters = try (0..<4).map {
            try Launched(["cluster", "--coordinator", listen, "--id", "\($0)"], in: directory, name: "cluster\($0)")
        }
        // Status names the coordinator's build, as `octopus --version` does.
        XCTAssertEqual(
            try ctl(["status"], control: control, in: directory, name: "build").1["build"] as? String,
            try buildID(of: octopusBinary))
        XCTAssertTrue(
            eventually(30) {
                (try? self.ctl(["status"], control: control, in: directory, name: "status1").1["clusters_registered"]
                    as? Int) == 4
            })

        // A bad request gets an error reply, and the wafer keeps serving.
        let bad = try octopus(
            ["ctl", "send", #"{"cmd": "explode"}"#, "--control", control], in: directory, name: "bad")
        XCTAssertTrue(bad.stdout.contains("unknown command 'explode'"), bad.stdout)
        let (unknownStatus, unknown) = try ctl(
            ["inject", "--workflow", "nope"], control: control, in: directory, name: "unknown")
        XCTAssertEqual(unknownStatus, 1)
        XCTAssertTrue((unknown["error"] as? String ?? "").contains("unknown workflow 'nope'"), "\(unknown)")

        let (injectStatus, injected) = try ctl(
            [
                "inject", "--workflow", "detect-classify", "--count", "30", "--arrival", "periodic",
                "--period-cycles", "5000", "--seed", "3",
            ], control: control, in: directory, name: "inject")
        XCTAssertEqual(injectStatus, 0, "\(injected)")
        XCTAssertEqual(injected["requests"] as? [Int], [0, 29])
        let (_, more) = try ctl(
            [
                "inject", "--workflow", "speech-cascade", "--count", "10", "--arrival", "poisson",
                "--mean-interval-cycles", "7000",
            ],
            control: control, in: directory, name: "inject2")
        XCTAssertEqual(more["requests"] as? [Int], [30, 39])
        // A workflow file: accepted when it is the definition the wafer runs, refused when it differs.
        let (fileStatus, fromFile) = try ctl(
            [
                "inject", "--workflow", "Configs/workflows/recsys.yaml", "--count", "5", "--arrival", "markov",
                "--states", "20000:100000,80000:300000",
            ], control: control, in: directory, name: "inject3")
        XCTAssertEqual(fileStatus, 0, "\(fromFile)")
        XCTAssertEqual(fromFile["requests"] as? [Int], [40, 44])
        let changed = try String(contentsOfFile: repositoryRoot + "/Configs/workflows/recsys.yaml", encoding: .utf8)
            .replacingOccurrences(of: "normal: 0.85", with: "normal: 0.5")
        try changed.write(toFile: directory + "/recsys.yaml", atomically: true, encoding: .utf8)
        let (changedStatus, refused) = try ctl(
            ["inject", "--workflow", directory + "/recsys.yaml", "--topologies", "Configs/topologies"],
            control: control, in: directory, name: "inject4")
        XCTAssertEqual(changedStatus, 1)
        XCTAssertTrue((refused["error"] as? String ?? "").contains("differs from the one the wafer runs"), "\(refused)")

        let (drainStatus, drained) = try ctl(["drain"], control: control, in: directory, name: "drain")
        XCTAssertEqual(drainStatus, 0, "\(drained)")
        XCTAssertEqual(drained["drained"] as? Bool, true)
        let (_, status) = try ctl(["status"], control: control, in: directory, name: "status2")
        let requests = status["requests"] as? [String: Any] ?? [:]
        XCTAssertEqual(requests["in_flight"] as? Int, 0)
        XCTAssertEqual((requests["completed"] as? Int ?? 0) + (requests["rejected"] as? Int ?? 0), 45)
        XCTAssertEqual(status["state"] as? String, "idle")

        // An idle wafer blocks in zmq_poll: over two seconds no process may burn more than a sliver
        // of CPU (a spinning one would use about a core-second each).
        let pids = [coordinator.pid] + clusters.map(\.pid)
        let before = pids.map { cpuTicks($0) ?? 0 }
        sleep(2)
        for (pid, start) in zip(pids, before) {
            XCTAssertLessThan((cpuTicks(pid) ?? 0) - start, 20, "process \(pid) used CPU while the wafer was idle")
        }

        let snapshot = out + "/snapshot.json"
        let (traceStatus, _) = try ctl(
            ["trace", "--name", "snapshot.json"], control: control, in: directory, name: "trace")
        XCTAssertEqual(traceStatus, 0)
        // A path, or the run's own files, are refused: the control socket writes only snapshots.
        for name in [
            "/tmp/elsewhere.json", "../escape.json", "trace.json", "summary.json", ".hidden.json", "notes.txt",
        ] {
            let (status, reply) = try ctl(["trace", "--name", name], control: control, in: directory, name: "badtrace")
            XCTAssertEqual(status, 1, "\(name): \(reply)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/elsewhere.json"))
        }
        let events = try readJSON(snapshot)["traceEvents"] as? [[String: Any]] ?? []
        XCTAssertGreaterThan(events.filter { $0["ph"] as? String == "X" }.count, 60)

        let (stopStatus, stopped) = try ctl(["stop"], control: control, in: directory, name: "stop")
        XCTAssertEqual(stopStatus, 0, "\(stopped)")
        XCTAssertEqual(coordinator.wait(seconds: 30), 0, coordinator.stderr)
        for (id, cluster) in clusters.enumerated() {
            XCTAssertEqual(cluster.wait(seconds: 15), 0, "cluster \(id): \(cluster.stderr)")
        }
        for pid in [coordinator.pid] + clusters.map(\.pid) {
            XCTAssertNotEqual(kill(pid, 0), 0, "process \(pid) is gone")
        }
        let summary = try readJSON(out + "/summary.json")
        let overall = (summary["results"] as? [String: Any])?["overall"] as? [String: Any]
        XCTAssertEqual(overall?["injected"] as? Int, 45)
        XCTAssertNoThrow(try readJSON(out + "/trace.json"))
    }

    /// One hand-started process hosting all four clusters (`cluster --count 4`) serves a wafer that
    /// runs, waits idle (the coordinator pings every cluster's socket while it waits, and the
    /// process, which watches only its first socket while the wafer runs, reads them), runs again
    /// and stops: every request finishes and both processes exit cleanly.
    func testOneProcessOfSeveralClustersServesAWaferThatWaitsBetweenRuns() throws {
        let directory = try makeTemporaryDirectory("manual-count")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listen = "tcp://127.0.0.1:\(freePort())"
        let control = "tcp://127.0.0.1:\(freePort())"
        let out = directory + "/out"
        let coordinator = try Launched(
            [
                "coordinator", "--wafer", "Configs/wafers/small-2x2.yaml", "--listen", listen,
                "--control", control, "--out", out,
            ], in: directory, name: "coordinator")
        let process = try Launched(
            ["cluster", "--coordinator", listen, "--id", "0", "--count", "4"], in: directory, name: "clusters")
        XCTAssertTrue(
            eventually(30) {
                (try? self.ctl(["status"], control: control, in: directory, name: "status").1["clusters_registered"]
                    as? Int) == 4
            })
        for round in 0..<2 {
            let (injectStatus, injected) = try ctl(
                [
                    "inject", "--workflow", "detect-classify", "--count", "20", "--arrival", "periodic",
                    "--period-cycles", "3000",
                ], control: control, in: directory, name: "inject\(round)")
            XCTAssertEqual(injectStatus, 0, "\(injected)")
            let (drainStatus, drained) = try ctl(["drain"], control: control, in: directory, name: "drain\(round)")
            XCTAssertEqual(drainStatus, 0, "\(drained)")
            XCTAssertEqual(drained["completed"] as? Int, 20 * (round + 1), "\(drained)")
            // Idle: the coordinator pings; the process reads the pings and burns no CPU.
            let before = cpuTicks(process.pid) ?? 0
            sleep(3)
            XCTAssertLessThan((cpuTicks(process.pid) ?? 0) - before, 20, "the cluster process used CPU while idle")
        }
        let (stopStatus, stopped) = try ctl(["stop"], control: control, in: directory, name: "stop")
        XCTAssertEqual(stopStatus, 0, "\(stopped)")
        XCTAssertEqual(coordinator.wait(seconds: 30), 0, coordinator.stderr)
        XCTAssertEqual(process.wait(seconds: 15), 0, process.stderr)
        let summary = try readJSON(out + "/summary.json")
        let results = summary["results"] as? [String: Any]
        XCTAssertEqual((results?["overall"] as? [String: Any])?["completed"] as? Int, 40)
        XCTAssertGreaterThan(results?["utilisation"] as? Double ?? 0, 0, "every cluster's statistics came back")
        XCTAssertEqual((summary["host"] as? [String: Any])?["processes"] as? Int, 2)
    }

    /// The README's pyzmq example, run as written against a live wafer (needs OCTOPUS_PYTHON, a
    /// Python with pyzmq, which scripts/test provides).
    func testPyzmqExampleFromTheREADME() throws {
        guard let python = ProcessInfo.processInfo.environment["OCTOPUS_PYTHON"] else {
            throw XCTSkip("OCTOPUS_PYTHON is not set (scripts/test sets it when pyzmq can be installed)")
        }
        let directory = try makeTemporaryDirectory("pyzmq")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listen = "ipc://\(directory)/coordinator"
        let control = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try Launched(
            [
                "coordinator", "--wafer", "Configs/wafers/small-2x2.yaml", "--listen", listen,
                "--control", control, "--out", directory + "/out",
            ], in: directory, name: "coordinator")
        let clusters = try (0..<4).map {
            try Launched(["cluster", "--coordinator", listen, "--id", "\($0)"], in: directory, name: "cluster\($0)")
        }
        // Deliberately no wait for registration: a drain sent meanwhile waits for the wafer to start.
        let example = Process()
        example.executableURL = URL(fileURLWithPath: python)
        example.arguments = [repositoryRoot + "/examples/control.py", control]
        let output = Pipe()
        example.standardOutput = output
        try example.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        example.waitUntilExit()
        XCTAssertEqual(example.terminationStatus, 0, text)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, text)
        XCTAssertTrue(lines[0].contains("'requests': [0, 49]"), text)
        XCTAssertTrue(lines[2].contains("'drained': True") && lines[2].contains("'completed'"), text)
        XCTAssertTrue(lines[3].contains("'ok': False") && lines[3].contains("unknown command 'launch'"), text)
        let stop = try octopus(["ctl", "stop", "--control", control], in: directory, name: "stop")
        // The reply names the output directory with its slashes as they are (not "\/").
        XCTAssertTrue(stop.stdout.contains("\"output\" : \"\(directory)/out\""), stop.stdout)
        XCTAssertEqual(coordinator.wait(seconds: 30), 0, coordinator.stderr)
        for cluster in clusters { XCTAssertEqual(cluster.wait(seconds: 15), 0, cluster.stderr) }
    }

    /// A hand-started coordinator that loses a cluster keeps what it has (a closed trace, a summary
    /// marked incomplete) and stays up in a `failed` state that answers `status` and `stop`.
    func testAFailedWaferStaysToAnswerStatusAndStop() throws {
        let directory = try makeTemporaryDirectory("failed")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listen = "tcp://127.0.0.1:\(freePort())"
        let control = "tcp://127.0.0.1:\(freePort())"
        let out = directory + "/out"
        let coordinator = try Launched(
            [
                "coordinator", "--wafer", "Configs/wafers/small-2x2.yaml", "--listen", listen, "--control", control,
                "--out", out, "--failed-timeout", "120",
            ], in: directory, name: "coordinator")
        defer { if coordinator.process.isRunning { kill(coordinator.pid, SIGKILL) } }
        let clusters = try (0..<4).map {
            try Launched(["cluster", "--coordinator", listen, "--id", "\($0)"], in: directory, name: "cluster\($0)")
        }
        defer { for cluster in clusters where cluster.process.isRunning { kill(cluster.pid, SIGKILL) } }
        XCTAssertTrue(
            eventually(30) {
                (try? self.ctl(["status"], control: control, in: directory, name: "status").1["clusters_registered"]
                    as? Int) == 4
            })
        let (injectStatus, _) = try ctl(
            [
                "inject", "--workflow", "detect-classify", "--count", "100000", "--arrival", "periodic",
                "--period-cycles", "5000",
            ],
            control: control, in: directory, name: "inject")
        XCTAssertEqual(injectStatus, 0)
        kill(clusters[2].pid, SIGKILL)
        var status: [String: Any] = [:]
        XCTAssertTrue(
            eventually(30) {
                status = (try? self.ctl(["status"], control: control, in: directory, name: "failed").1) ?? [:]
                return status["state"] as? String == "failed"
            }, "\(status) \(coordinator.stderr)")
        XCTAssertTrue((status["error"] as? String ?? "").contains("cluster 2"), "\(status)")
        let (refusedStatus, refused) = try ctl(
            ["inject", "--workflow", "detect-classify", "--count", "1"], control: control, in: directory, name: "late")
        XCTAssertEqual(refusedStatus, 1)
        XCTAssertTrue((refused["error"] as? String ?? "").contains("the wafer has failed"), "\(refused)")
        let summary = try readJSON(out + "/summary.json")
        XCTAssertEqual(summary["complete"] as? Bool, false)
        XCTAssertTrue((summary["stopped_because"] as? String ?? "").contains("cluster 2"), "\(summary)")
        XCTAssertNoThrow(try readJSON(out + "/trace.json"))
        for (id, cluster) in clusters.enumerated() where id != 2 {
            XCTAssertEqual(cluster.wait(seconds: 20), 0, "the failed wafer stops cluster \(id): \(cluster.stderr)")
        }
        let (stopStatus, _) = try ctl(["stop"], control: control, in: directory, name: "stop")
        XCTAssertEqual(stopStatus, 0)
        XCTAssertEqual(coordinator.wait(seconds: 30), 1, "a failed run exits 1 once told to stop")
    }

    /// The run starts only when every cluster has decoded its setup (READY). A process that
    /// registers as a cluster and never answers its setup keeps the run from starting; the
    /// coordinator gives up after its registration timeout, naming it, and the real clusters stop.
    func testAClusterThatNeverBecomesReadyIsNamed() throws {
        let directory = try makeTemporaryDirectory("unready")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listen = "tcp://127.0.0.1:\(freePort())"
        let control = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try Launched(
            [
                "coordinator", "--wafer", "Configs/wafers/small-2x2.yaml", "--listen", listen, "--control", control,
                "--out", directory + "/out", "--registration-timeout", "3", "--failed-timeout", "0",
            ], in: directory, name: "coordinator")
        defer { if coordinator.process.isRunning { kill(coordinator.pid, SIGKILL) } }
        let clusters = try (0..<3).map {
            try Launched(["cluster", "--coordinator", listen, "--id", "\($0)"], in: directory, name: "cluster\($0)")
        }
        defer { for cluster in clusters where cluster.process.isRunning { kill(cluster.pid, SIGKILL) } }
        // Cluster 3 registers like a cluster process would, then stays silent.
        let context = try Context()
        let silent = try context.socket(.dealer)
        try silent.setRoutingID("cluster-3")
        try silent.connect(listen)
        try silent.send([
            [1], Array(#"{"cluster": 3, "pid": 1, "host": "test", "wire": \#(ClusterProtocol.version)}"#.utf8),
        ])
        XCTAssertEqual(coordinator.wait(seconds: 60), 1, coordinator.stderr)
        XCTAssertTrue(
            coordinator.stderr.contains("clusters 3 registered but were not ready"), coordinator.stderr)
        for (id, cluster) in clusters.enumerated() {
            XCTAssertEqual(cluster.wait(seconds: 30), 0, "the wafer stops cluster \(id): \(cluster.stderr)")
        }
        silent.close()
    }

    /// A cluster process of another build (another window protocol, or one from before the
    /// version was sent) is refused at registration with both versions named, rather than failing
    /// with a wire error in the middle of a run; the coordinator carries on.
    func testAClusterOfAnotherBuildIsRefusedAtRegistration() throws {
        let directory = try makeTemporaryDirectory("other-build")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listen = "tcp://127.0.0.1:\(freePort())"
        let coordinator = try Launched(
            [
                "coordinator", "--wafer", "Configs/wafers/small-2x2.yaml", "--listen", listen, "--control",
                "tcp://127.0.0.1:\(freePort())", "--out", directory + "/out",
            ], in: directory, name: "coordinator")
        defer { if coordinator.process.isRunning { kill(coordinator.pid, SIGKILL) } }
        let context = try Context()
        for (id, wire) in [(1, #", "wire": 1"#), (2, "")] {
            let dealer = try context.socket(.dealer)
            defer { dealer.close() }
            try dealer.setRoutingID("cluster-\(id)")
            try dealer.connect(listen)
            try dealer.send([[1], Array(#"{"cluster": \#(id), "pid": 7, "host": "elsewhere"\#(wire)}"#.utf8)])
            var poller = Poller()
            poller.add(.socket(dealer))
            XCTAssertFalse(
                try poller.poll(timeoutMs: 20_000).isEmpty, "no answer to cluster \(id): \(coordinator.stderr)")
            let frames = try XCTUnwrap(try dealer.receive(dontWait: true))
            XCTAssertEqual(frames.first, [9], "an error reply")
            let reason = String(decoding: frames.last ?? [], as: UTF8.self)
            XCTAssertTrue(reason.contains("run the same octopus build on every host"), reason)
            XCTAssertTrue(reason.contains("this coordinator window protocol \(ClusterProtocol.version)"), reason)
            XCTAssertTrue(
                reason.contains(wire.isEmpty ? "an older window protocol" : "window protocol 1"), reason)
        }
        // A host name that would write terminal escapes and a forged line into the coordinator's
        // log is refused without being quoted.
        let dealer = try context.socket(.dealer)
        defer { dealer.close() }
        try dealer.setRoutingID("cluster-3")
        try dealer.connect(listen)
        let hostile = #"{"cluster": 3, "pid": 7, "host": "\u001b[2Jbox\noctopus: all 4 clusters ready", "wire": "#
        try dealer.send([[1], Array((hostile + "\(ClusterProtocol.version)}").utf8)])
        var poller = Poller()
        poller.add(.socket(dealer))
        XCTAssertFalse(try poller.poll(timeoutMs: 20_000).isEmpty, "no answer to cluster 3: \(coordinator.stderr)")
        let frames = try XCTUnwrap(try dealer.receive(dontWait: true))
        XCTAssertEqual(frames.first, [9], "an error reply")
        let reason = String(decoding: frames.last ?? [], as: UTF8.self)
        XCTAssertTrue(reason.contains("malformed registration of cluster 3: its host name"), reason)
        XCTAssertFalse(reason.contains("box"), reason)
        XCTAssertTrue(coordinator.process.isRunning, coordinator.stderr)
        XCTAssertFalse(coordinator.stderr.contains("\u{1b}") || coordinator.stderr.contains("box"), coordinator.stderr)
    }

    func testClusterWithoutCoordinatorGivesUpWithAClearMessage() throws {
        let directory = try makeTemporaryDirectory("lonely")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try octopus(
            ["cluster", "--coordinator", "tcp://127.0.0.1:\(freePort())", "--id", "0", "--setup-timeout", "1"],
            in: directory, name: "cluster", seconds: 30)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("no setup from a coordinator"), result.stderr)
        let remote = try octopus(
            ["cluster", "--coordinator", "tcp://192.0.2.1:5570", "--id", "0"], in: directory, name: "remote",
            seconds: 30)
        XCTAssertEqual(remote.status, 2, "a non-loopback endpoint without keys is bad input")
        XCTAssertTrue(remote.stderr.contains("CurveZMQ"), remote.stderr)
    }

    /// A cluster that registers, takes its setup and then reports a message no cluster sends (a
    /// view, for the coordinator): the coordinator refuses the report before using any of it,
    /// stops the wafer with a protocol error naming the cluster and exits 1 — no crash — writing
    /// an incomplete summary; the honest clusters are stopped and exit cleanly.
    func testAClusterReportingWhatNoClusterSendsStopsTheWaferWithAnErrorNotACrash() throws {
        let directory = try makeTemporaryDirectory("liar")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listen = "tcp://127.0.0.1:\(freePort())"
        let out = directory + "/out"
        let coordinator = try Launched(
            [
                "coordinator", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload", "Configs/workloads/small.yaml",
                "--listen", listen, "--control", "tcp://127.0.0.1:\(freePort())", "--exit-when-idle", "--out", out,
            ], in: directory, name: "coordinator")
        let clusters = try [0, 2, 3].map {
            try Launched(["cluster", "--coordinator", listen, "--id", "\($0)"], in: directory, name: "cluster\($0)")
        }
        // Cluster 1, by hand: the protocol as a cluster process speaks it, until its first grant.
        let context = try Context()
        let liar = try context.socket(.dealer)
        defer { liar.close() }
        try liar.setRoutingID(String(decoding: RemoteClusterTransport.identity(1), as: UTF8.self))
        try liar.connect(listen)
        try liar.send(
            ClusterProtocol.json(
                .register,
                ClusterProtocol.Registration(cluster: 1, pid: getpid(), host: "liar", wire: ClusterProtocol.version)))
        var poller = Poller()
        poller.add(.socket(liar))
        var lied = false
        let deadline = Date().addingTimeInterval(60)
        while coordinator.process.isRunning, Date() < deadline {
            guard try !poller.poll(timeoutMs: 200).isEmpty else { continue }
            while let frames = try liar.receive(dontWait: true) {
                let (tag, body) = try ClusterProtocol.parse(frames)
                switch tag {
                case .setup: try liar.send(ClusterProtocol.frames(.ready))
                case .grant:
                    let grant = try ClusterProtocol.decodeGrant(body)
                    let view = Envelope(
                        source: .cluster(1), destination: .coordinator, sendTime: grant.end - 1,
                        arrival: grant.end + 100, sequence: 1, message: .view(LoadViewUpdate(time: 1, clusters: [])))
                    try liar.send(
                        ClusterProtocol.encode(
                            ClusterProtocol.Report(
                                window: grant.window, nextEvent: .never, earliestOutput: .never, events: 1,
                                computeNanos: 1, absorbs: [], envelopes: [view], trace: [], livePeers: [])))
                    lied = true
                case .stop: try liar.send(ClusterProtocol.frames(.bye))
                default: break
                }
            }
        }
        XCTAssertTrue(lied, "cluster 1 was never granted a window: \(coordinator.stderr)")
        XCTAssertEqual(coordinator.wait(seconds: 30), 1, coordinator.stderr)
        XCTAssertEqual(coordinator.process.terminationReason, .exit, "the coordinator was killed by a signal")
        let refusal = "cluster 1 reported a view message to coordinator, which clusters never send"
        XCTAssertTrue(coordinator.stderr.contains(refusal), coordinator.stderr)
        let summary = try readJSON(out + "/summary.json")
        XCTAssertEqual(summary["complete"] as? Bool, false)
        XCTAssertTrue((summary["stopped_because"] as? String ?? "").contains(refusal), "\(summary)")
        XCTAssertNoThrow(try readJSON(out + "/trace.json"), "the trace is closed, valid JSON")
        for cluster in clusters { XCTAssertEqual(cluster.wait(seconds: 20), 0, cluster.stderr) }
        // The hand-made cluster sent no build ID: the coordinator warned and the summary names
        // it alone (the real cluster processes ran the coordinator's build).
        XCTAssertTrue(
            coordinator.stderr.contains("warning: cluster 1 (pid \(getpid()) on liar) runs build unknown"),
            coordinator.stderr)
        let host = try XCTUnwrap(summary["host"] as? [String: Any])
        let builds = try XCTUnwrap(host["cluster_builds"] as? [[String: Any]], "\(host)")
        XCTAssertEqual(builds.count, 1, "\(builds)")
        XCTAssertNil(builds.first?["build"], "\(builds)")
        XCTAssertEqual(builds.first?["clusters"] as? [Int], [1])
        XCTAssertEqual((host["build"] as? [String: Any])?["id"] as? String, try buildID(of: octopusBinary))
    }
}
