import Emulation
import Foundation
import XCTest
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// Wafers across hosts, the hosts being Linux network namespaces with network stacks of their own
/// (see `VirtualHosts`): clusters reach the coordinator over a bridge, authenticated with CurveZMQ.
final class MultiHostTests: XCTestCase {
    let smallWafer = ["--wafer", "Configs/wafers/small-2x2.yaml", "--workload", "Configs/workloads/small.yaml"]

    /// The single-process oracle's summary and trace for `arguments`.
    func oracle(_ arguments: [String], in directory: String) throws -> (RunSummary, Data) {
        let out = directory + "/oracle"
        let result = try octopus(
            ["run", "--single-process", "--quiet", "--out", out] + arguments, in: directory, name: "oracle")
        XCTAssertEqual(result.status, 0, result.stderr)
        return try summaryAndTrace(out)
    }

    func summaryAndTrace(_ out: String) throws -> (RunSummary, Data) {
        (
            try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))),
            try Data(contentsOf: URL(fileURLWithPath: out + "/trace.json"))
        )
    }

    func generateKeys(_ directory: String) throws {
        // Its output files go beside the keys' directory, which the caller removes with its own.
        let parent = (directory as NSString).deletingLastPathComponent
        let result = try octopus(["keys", "generate", directory], in: parent, name: "keys-generate")
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    /// `octopus run --hosts … --launch 'ip netns exec {host} {command}'` equals the oracle, and the
    /// summary says which host ran which cluster.
    func runOverHosts(
        _ arguments: [String], hosts: VirtualHosts, spec: (VirtualHosts) -> String, expected: [Int], name: String,
        launcherOnly: [String] = [], processes: Int? = nil
    ) throws {
        let directory = try makeTemporaryDirectory(name)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try generateKeys(directory + "/keys")
        let (oracleSummary, oracleTrace) = try oracle(arguments, in: directory)
        let out = directory + "/hosts"
        let result = try octopus(
            ["run", "--out", out] + arguments + [
                "--hosts", spec(hosts), "--keys", directory + "/keys", "--listen",
                "tcp://\(hosts.gateway):\(freePort())", "--launch", "\(VirtualHosts.ip!) netns exec {host} {command}",
            ] + launcherOnly, in: directory, name: "hosts", seconds: 180)
        XCTAssertEqual(result.status, 0, result.stderr)
        let (summary, trace) = try summaryAndTrace(out)
        XCTAssertEqual(summary.results, oracleSummary.results, "results across hosts differ from the oracle")
        XCTAssertEqual(trace, oracleTrace, "the trace across hosts differs from the oracle's")
        XCTAssertEqual(summary.host?.placement, expected.map { hosts.names[$0] })
        XCTAssertEqual(summary.host?.processes, processes ?? expected.count + 1)
        for (index, host) in hosts.names.enumerated() {
            let clusters = expected.indices.filter { expected[$0] == index }.map(String.init).joined(separator: ", ")
            XCTAssertTrue(result.stderr.contains("placement: \(host): clusters \(clusters)"), result.stderr)
        }
        XCTAssertTrue(
            eventually(5) { hosts.names.indices.allSatisfy { hosts.processes(on: $0).isEmpty } },
            "cluster processes are left in the namespaces")
    }

    func testATwoByTwoWaferOverTwoHostsEqualsTheOracle() throws {
        let hosts = try VirtualHosts(count: 2)
        defer { hosts.remove() }
        try runOverHosts(
            smallWafer, hosts: hosts, spec: { $0.names.joined(separator: ",") }, expected: [0, 1, 0, 1],
            name: "hosts2x2")
    }

    func testAFourByFourWaferOverThreeHostsBySlotsEqualsTheOracle() throws {
        let hosts = try VirtualHosts(count: 3)
        defer { hosts.remove() }
        try runOverHosts(
            ["--wafer", "Configs/wafers/default.yaml", "--workload", "Configs/workloads/small.yaml"], hosts: hosts,
            spec: { "\($0.names[0]):6,\($0.names[1]):6,\($0.names[2]):4" },
            expected: [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2], name: "hosts4x4")
    }

    /// Peers with another wafer's keys, with the right server key but a stranger's own key, or with
    /// no keys at all are refused at the handshake and counted; none of them gets to register, and
    /// the wafer then runs its workload to the oracle's results while a keyless peer keeps knocking.
    /// Several clusters per process across hosts: runs of consecutive clusters on one host share
    /// a process (at most 4 here: 0–3 and 4–5 on the first host, 6–9 and 10–11, 12–15), started
    /// through the launch template with `--count`; the results and trace stay the oracle's.
    func testSeveralClustersPerProcessAcrossHostsEqualTheOracle() throws {
        let hosts = try VirtualHosts(count: 3)
        defer { hosts.remove() }
        try runOverHosts(
            ["--wafer", "Configs/wafers/default.yaml", "--workload", "Configs/workloads/small.yaml"], hosts: hosts,
            spec: { "\($0.names[0]):6,\($0.names[1]):6,\($0.names[2]):4" },
            expected: [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2], name: "hosts-grouped",
            launcherOnly: ["--clusters-per-process", "4"], processes: 6)
    }

    func testPeersWithoutTheWafersKeysAreRefusedAndTheWaferIsUndisturbed() throws {
        let hosts = try VirtualHosts(count: 2)
        defer { hosts.remove() }
        let directory = try makeTemporaryDirectory("refused")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = directory + "/keys"
        try generateKeys(keys)
        try generateKeys(directory + "/other")
        // A stranger who knows the coordinator's public key but has a member key of its own.
        let stranger = directory + "/stranger"
        try FileManager.default.createDirectory(atPath: stranger, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: keys + "/coordinator.public", toPath: stranger + "/coordinator.public")
        for file in ["member.public", "member.secret"] {
            try FileManager.default.copyItem(atPath: directory + "/other/" + file, toPath: stranger + "/" + file)
        }
        // Cluster hosts need no coordinator secret.
        let memberOnly = directory + "/member-only"
        try FileManager.default.copyItem(atPath: keys, toPath: memberOnly)
        try FileManager.default.removeItem(atPath: memberOnly + "/coordinator.secret")

        let (oracleSummary, oracleTrace) = try oracle(smallWafer, in: directory)
        let listen = "tcp://\(hosts.gateway):\(freePort())"
        let control = "tcp://\(hosts.gateway):\(freePort())"
        let out = directory + "/out"
        let coordinator = try Launched(
            ["coordinator", "--listen", listen, "--control", control, "--keys", keys, "--exit-when-idle", "--out", out]
                + smallWafer, in: directory, name: "coordinator")
        defer { if coordinator.process.isRunning { kill(coordinator.pid, SIGKILL) } }
        func cluster(_ id: Int, host: Int, keys: String, name: String) throws -> Launched {
            try Launched(
                [
                    "netns", "exec", hosts.names[host], octopusBinary, "cluster", "--coordinator", listen, "--id",
                    "\(id)",
                    "--keys", keys, "--host-label", hosts.names[host],
                ], in: directory, name: name, executable: VirtualHosts.ip!)
        }
        func status() -> [String: Any] {
            let result = try? octopus(
                ["ctl", "status", "--control", control, "--keys", keys], in: directory, name: "status", seconds: 30)
            return (try? JSONSerialization.jsonObject(with: Data((result?.stdout ?? "").utf8))) as? [String: Any] ?? [:]
        }
        XCTAssertTrue(eventually(20) { status()["state"] as? String == "waiting" }, coordinator.stderr)
        let good = try (0..<3).map { try cluster($0, host: $0 % 2, keys: memberOnly, name: "cluster\($0)") }
        XCTAssertTrue(eventually(30) { status()["clusters_registered"] as? Int == 3 }, coordinator.stderr)

        // Every impostor claims the missing cluster 3.
        for (name, impostorKeys) in [("other-wafer", directory + "/other"), ("stranger", stranger)] {
            let impostor = try cluster(3, host: 1, keys: impostorKeys, name: name)
            XCTAssertEqual(impostor.wait(seconds: 30), 1, "\(name): \(impostor.stderr)")
            XCTAssertTrue(impostor.stderr.contains("refused the CurveZMQ handshake"), "\(name): \(impostor.stderr)")
        }
        let wrongClient = try octopus(
            ["ctl", "status", "--control", control, "--keys", directory + "/other"], in: directory, name: "wrong-ctl")
        XCTAssertEqual(wrongClient.status, 1)
        XCTAssertTrue(wrongClient.stderr.contains("refused the CurveZMQ handshake"), wrongClient.stderr)
        // No keys at all: plain ZeroMQ sockets, as a scanner or a misconfigured client would open.
        let context = try Context()
        let request = try context.socket(.req)
        defer { request.close() }
        try request.connect(control)
        try request.send(Array(#"{"cmd": "stop"}"#.utf8))
        let knocker = try context.socket(.dealer)
        defer { knocker.close() }
        try knocker.setRoutingID("cluster-3")
        try knocker.connect(listen)
        try knocker.send([[1], Array(#"{"cluster": 3, "pid": 1, "host": "impostor"}"#.utf8)])
        var refused = 0
        XCTAssertTrue(
            eventually(10) {
                refused = status()["refused_connections"] as? Int ?? 0
                return refused >= 5
            }, "refused \(refused); \(coordinator.stderr)")
        let before = status()
        XCTAssertEqual(before["clusters_registered"] as? Int, 3, "an impostor registered: \(before)")
        XCTAssertEqual(before["state"] as? String, "waiting")
        XCTAssertTrue(coordinator.stderr.contains("security: refused a CURVE connection from \(hosts.addresses[1])"))
        XCTAssertTrue(coordinator.stderr.contains("security: a handshake on the control socket failed"))

        // The real cluster 3 completes the wafer, which runs to the oracle's results and trace while
        // the keyless dealer keeps reconnecting.
        let last = try cluster(3, host: 1, keys: memberOnly, name: "cluster3")
        XCTAssertEqual(coordinator.wait(seconds: 120), 0, coordinator.stderr)
        for (id, process) in (good + [last]).enumerated() {
            XCTAssertEqual(process.wait(seconds: 20), 0, "cluster \(id): \(process.stderr)")
        }
        XCTAssertNil(try request.receive(dontWait: true), "the keyless stop request got an answer")
        let (summary, trace) = try summaryAndTrace(out)
        XCTAssertEqual(summary.results, oracleSummary.results)
        XCTAssertEqual(trace, oracleTrace)
        XCTAssertEqual(
            summary.host?.placement, [hosts.names[0], hosts.names[1], hosts.names[0], hosts.names[1]])
    }

    /// A host lost mid-run: its processes killed and its link cut. The run stops within seconds,
    /// naming the host and its clusters, and leaves nothing running.
    func testALostHostStopsTheRunNamingTheHostAndItsClusters() throws {
        try loseHost(killProcesses: true)
    }

    /// A host cut off the network while its processes live on (a partition, or a hung ssh): the
    /// coordinator's heartbeats notice, and the run stops naming the host.
    func testAPartitionedHostStopsTheRunNamingTheHost() throws {
        try loseHost(killProcesses: false)
    }

    /// Ctrl-C on a run across hosts stops the clusters on every host and keeps what was done.
    func testCtrlCStopsTheClustersOnEveryHost() throws {
        let hosts = try VirtualHosts(count: 2)
        defer { hosts.remove() }
        let directory = try makeTemporaryDirectory("hosts-sigint")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try generateKeys(directory + "/keys")
        let run = try Launched(
            [
                "run", "--out", directory + "/out", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload",
                "Configs/workloads/mixed.yaml", "--hosts", hosts.names.joined(separator: ","), "--keys",
                directory + "/keys", "--listen", "tcp://\(hosts.gateway):\(freePort())", "--launch",
                "\(VirtualHosts.ip!) netns exec {host} {command}",
            ], in: directory, name: "run")
        defer { if run.process.isRunning { kill(run.pid, SIGKILL) } }
        XCTAssertTrue(
            eventually(60) { run.stderr.contains("all 4 clusters registered") || !run.process.isRunning }, run.stderr)
        XCTAssertTrue(run.process.isRunning, "the run ended before Ctrl-C: \(run.stderr)")
        kill(run.pid, SIGINT)
        XCTAssertEqual(run.wait(seconds: 30), 130, run.stderr)
        XCTAssertTrue(
            eventually(10) { hosts.names.indices.allSatisfy { hosts.processes(on: $0).isEmpty } },
            "processes are left in the namespaces")
        XCTAssertEqual(try readJSON(directory + "/out/summary.json")["complete"] as? Bool, false)
        XCTAssertNoThrow(try readJSON(directory + "/out/trace.json"))
    }

    func loseHost(killProcesses: Bool) throws {
        let hosts = try VirtualHosts(count: 2)
        defer { hosts.remove() }
        let directory = try makeTemporaryDirectory("lost-\(killProcesses)")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try generateKeys(directory + "/keys")
        // A workload long enough to be cut short: the mixed suite on four clusters.
        let run = try Launched(
            [
                "run", "--out", directory + "/out", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload",
                "Configs/workloads/mixed.yaml", "--hosts", hosts.names.joined(separator: ","), "--keys",
                directory + "/keys", "--listen", "tcp://\(hosts.gateway):\(freePort())", "--launch",
                "\(VirtualHosts.ip!) netns exec {host} {command}",
            ], in: directory, name: "run")
        defer { if run.process.isRunning { kill(run.pid, SIGKILL) } }
        XCTAssertTrue(
            eventually(60) { hosts.processes(on: 1).count == 2 && hosts.processes(on: 0).count == 2 }, run.stderr)
        // Let the wafer register and start running.
        XCTAssertTrue(
            eventually(60) { run.stderr.contains("all 4 clusters registered") || !run.process.isRunning }, run.stderr)
        XCTAssertTrue(run.process.isRunning, "the run ended before the host was lost: \(run.stderr)")
        if killProcesses { hosts.killAll(on: 1) }
        try hosts.disconnect(1)
        // Heartbeats time out after 5 s; the bound only guards against a hang.
        XCTAssertEqual(run.wait(seconds: 30), 1, run.stderr)
        let lostHost = hosts.names[1]
        XCTAssertTrue(run.stderr.contains("host \(lostHost)"), run.stderr)
        XCTAssertTrue(
            run.stderr.contains("clusters 3") || run.stderr.contains("clusters 1"),
            "the message names the other cluster on that host: \(run.stderr)")
        XCTAssertTrue(
            eventually(10) { hosts.names.indices.allSatisfy { hosts.processes(on: $0).isEmpty } },
            "processes are left in the namespaces")
        XCTAssertTrue(processes(matching: [directory + "/keys"]).isEmpty, "cluster processes are left")
    }
}
