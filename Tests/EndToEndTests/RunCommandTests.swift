import Emulation
import Foundation
import Scheduling
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// `octopus run` as users run it: real cluster processes over ZeroMQ, compared with the
/// single-process oracle.
final class RunCommandTests: XCTestCase {
    let common = [
        "run", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload", "Configs/workloads/small.yaml", "--quiet",
    ]

    func testMultiProcessRunsEqualTheOracleOverIPCAndTCP() throws {
        let directory = try makeTemporaryDirectory("run")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let variants: [(String, [String])] = [
            ("oracle", ["--single-process"]), ("ipc", ["--transport", "ipc"]), ("tcp", ["--transport", "tcp"]),
            ("ipc-again", []), ("conservative", ["--sync", "conservative"]),
            // Clusters 0–2 in one process, 3 in another: the same protocol, the same results.
            ("grouped", ["--clusters-per-process", "3"]),
            // One process per core of this machine but the coordinator's.
            ("auto", ["--clusters-per-process", "auto"]),
            // Placement left to the kernel, and every process pinned even when they outnumber
            // the CPUs (by default only processes no more than the CPUs are).
            ("unpinned", ["--no-pin-cpus"]), ("pinned", ["--pin-cpus"]),
        ]
        var summaries: [String: RunSummary] = [:]
        var traces: [String: Data] = [:]
        var tables: [String: [Data]] = [:]
        for (name, extra) in variants {
            let out = directory + "/" + name
            let result = try octopus(common + ["--out", out] + extra, in: directory, name: name)
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("PE-array utilisation"), result.stdout)
            summaries[name] = try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            traces[name] = try Data(contentsOf: URL(fileURLWithPath: out + "/trace.json"))
            // (wafer.json is the configuration as run: it names the --sync setting, so it differs.)
            tables[name] = try ["requests.csv", "timeline.csv", "episodes.csv"].map {
                try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0))
            }
        }
        let oracle = try XCTUnwrap(summaries["oracle"])
        XCTAssertEqual(oracle.results.overall.injected, 112)
        // The small wafer runs near saturation: on this seed octopus fills one 64-block queue and
        // rejects a few requests; every request still ends exactly once, the same in every variant.
        XCTAssertEqual(oracle.results.overall.completed + oracle.results.overall.rejected, 112)
        XCTAssertGreaterThan(oracle.results.overall.completed, 56, "most requests complete")
        XCTAssertEqual(oracle.host?.processes, 1)
        let cores = max(ProcessInfo.processInfo.activeProcessorCount - 1, 1)
        let autoPerProcess = (4 + cores - 1) / cores  // (the 128-per-process cap does not bind)
        let processes = ["grouped": 3, "auto": 1 + (4 + autoPerProcess - 1) / autoPerProcess]
        for name in ["ipc", "tcp", "ipc-again", "conservative", "grouped", "auto", "unpinned", "pinned"] {
            XCTAssertEqual(
                summaries[name]?.results, oracle.results, "\(name) results differ from the single-process oracle")
            XCTAssertEqual(traces[name], traces["oracle"], "\(name) trace differs from the oracle's")
            XCTAssertEqual(tables[name], tables["oracle"], "\(name): the run's tables differ from the oracle's")
            XCTAssertEqual(summaries[name]?.host?.processes, processes[name] ?? 5, name)
        }
        // Pinned where there are two CPUs to choose from — by default when the cluster
        // processes are no more than the CPUs — the coordinator with the first cluster process,
        // the other processes on the allowed CPUs in turn.
        XCTAssertNil(oracle.host?.cpus)
        XCTAssertNil(summaries["unpinned"]?.host?.cpus)
        let allowed = try XCTUnwrap(allowedCPUs())
        for name in ["ipc", "tcp", "conservative", "grouped", "auto", "pinned"] {
            let clusterProcesses = (processes[name] ?? 5) - 1
            guard allowed.count >= 2, name == "pinned" || clusterProcesses <= allowed.count else {
                XCTAssertNil(summaries[name]?.host?.cpus, "\(name): \(clusterProcesses) processes, \(allowed) CPUs")
                continue
            }
            let cpus = try XCTUnwrap(summaries[name]?.host?.cpus, name)
            XCTAssertEqual(cpus.clusters.count, 4, name)
            XCTAssertEqual(cpus.clusters[0], cpus.coordinator, name)
            XCTAssertTrue(cpus.clusters.allSatisfy(allowed.contains), "\(name): \(cpus)")
            let next = allowed[(allowed.firstIndex(of: cpus.coordinator)! + 1) % allowed.count]
            switch name {
            case "grouped": XCTAssertEqual(cpus.clusters, [cpus.coordinator, cpus.coordinator, cpus.coordinator, next])
            case "auto": XCTAssertEqual(Set(cpus.clusters).count, min(processes["auto"]! - 1, allowed.count), name)
            default: XCTAssertEqual(cpus.clusters[1], next, name)
            }
        }
        XCTAssertEqual(oracle.host?.synchronisation.method, "global event order")
        // Messages between processes: none in one; with a process per cluster, a grant and a
        // report for every cluster run (its first run in a window, and each re-run); fewer when
        // a process hosts several clusters and takes all their grants of a round in one message.
        XCTAssertNil(oracle.host?.synchronisation.messages)
        for name in ["ipc", "tcp", "conservative"] {
            let sync = try XCTUnwrap(summaries[name]?.host?.synchronisation, name)
            XCTAssertEqual(sync.messages, 2 * (sync.clusterWindows + sync.reruns), name)
        }
        let grouped = try XCTUnwrap(summaries["grouped"]?.host?.synchronisation)
        XCTAssertLessThan(try XCTUnwrap(grouped.messages), 2 * (grouped.clusterWindows + grouped.reruns))
        XCTAssertEqual(summaries["ipc"]?.host?.synchronisation.method, "speculative windows")
        XCTAssertEqual(summaries["conservative"]?.host?.synchronisation.method, "windows")
        XCTAssertEqual(summaries["conservative"]?.host?.synchronisation.reruns, 0)
        // Some re-runs were avoided (views or signals the cluster would have absorbed late): the
        // corrections travelled with later grants, and the results above still equal the oracle's.
        XCTAssertGreaterThan(summaries["ipc"]?.host?.synchronisation.avoidedReruns ?? 0, 0)
        XCTAssertLessThan(
            summaries["ipc"]?.host?.synchronisation.rounds ?? .max,
            summaries["conservative"]?.host?.synchronisation.rounds ?? 0,
            "speculative windows need fewer rounds")
        // The trace is valid Chrome-trace JSON with a track per cluster.
        let trace = try JSONSerialization.jsonObject(with: traces["ipc"]!) as! [String: Any]
        let events = trace["traceEvents"] as! [[String: Any]]
        XCTAssertEqual(Set(events.compactMap { $0["pid"] as? Int }), Set(1...5))
        XCTAssertGreaterThan(events.filter { $0["ph"] as? String == "X" }.count, 200)
    }

    /// Loops, for-each fan-outs, parallel blocks and joins whose state lives on another cluster:
    /// the suite in miniature gives the oracle's results and trace across real processes.
    func testTheSuiteAcrossProcessesEqualsTheOracle() throws {
        let directory = try makeTemporaryDirectory("suite")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = [
            "run", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload", "Configs/workloads/suite-small.yaml",
            "--quiet",
        ]
        var summaries: [String: RunSummary] = [:]
        var traces: [String: Data] = [:]
        // "together": all four clusters in one process, each round's grants run together.
        for (name, extra) in [
            ("oracle", ["--single-process"]), ("ipc", []), ("together", ["--clusters-per-process", "4"]),
        ] {
            let out = directory + "/" + name
            let result = try octopus(arguments + ["--out", out] + extra, in: directory, name: name)
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            summaries[name] = try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            traces[name] = try Data(contentsOf: URL(fileURLWithPath: out + "/trace.json"))
        }
        let oracle = try XCTUnwrap(summaries["oracle"]).results
        XCTAssertEqual(oracle.overall.injected, 64)
        XCTAssertEqual(oracle.overall.completed + oracle.overall.rejected, 64)
        XCTAssertGreaterThan(oracle.fanoutItems, 0)
        // Token by token: the tool rounds' decode loop or the answer's (how many tool rounds a request
        // takes is drawn; either loop repeating is what this checks).
        let steps = ["decode-step", "answer-step"].reduce(0) {
            $0 + (oracle.workflows["llm-agent"]?.blockRuns?[$1] ?? 0)
        }
        XCTAssertGreaterThan(steps, 2, "a decode loop ran more than once per request")
        XCTAssertEqual(summaries["ipc"]?.results, oracle, "the multi-process results differ from the oracle's")
        XCTAssertEqual(traces["ipc"], traces["oracle"], "the multi-process trace differs from the oracle's")
        XCTAssertEqual(summaries["together"]?.results, oracle, "clusters run together differ from the oracle")
        XCTAssertEqual(traces["together"], traces["oracle"], "clusters run together: the trace differs")
        XCTAssertEqual(summaries["together"]?.host?.processes, 2)
        XCTAssertLessThan(
            summaries["together"]?.host?.synchronisation.rounds ?? .max,
            summaries["ipc"]?.host?.synchronisation.rounds ?? 0,
            "hand-overs between clusters run together need no round")
    }

    /// Loops and fan-outs nested every way the language allows — a loop around a parallel whose
    /// branch fans out items that loop and may exit early, joins `all` and `any` — across
    /// processes (every cluster's messages pass the coordinator's check of loop and fan-out
    /// frames) equal the oracle, trace and results.
    func testNestedLoopsAndFanOutsAcrossProcessesEqualTheOracle() throws {
        let directory = try makeTemporaryDirectory("nested")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/workflows", withIntermediateDirectories: true)
        try """
        name: nested
        blocks:
          - {name: start, task: [{cycles: 500}], output_bytes: 4096, next: outer-loop}
          - {name: outer-loop, loop: {body: fan, trips: {uniform: [1, 3]}, max: 3}, next: finish}
          - {name: fan, parallel: {branches: [left, right], join: meet}}
          - {name: left, foreach: {count: {uniform: [0, 4]}, body: item, join: items-done}}
          - {name: item, task: [{cycles: 700}], output_bytes: 256, next: item-loop}
          - {name: item-loop, loop: {body: refine, continue_probability: 0.5, max: 4}, next: maybe-exit}
          - {name: refine, task: [{cycles: 300}], next: item-loop}
          - {name: maybe-exit, exit: {probability: 0.2}, next: item-check}
          - {name: item-check, branch: {probability: 0.5, then: extra, else: items-done}}
          - {name: extra, task: [{cycles: 200}], next: items-done}
          - {name: items-done, join: all, next: meet}
          - {name: right, task: [{cycles: 900}], output_bytes: 1024, next: meet}
          - {name: meet, join: any, next: fan-tail}
          - {name: fan-tail, task: [{cycles: 100}], next: outer-loop}
          - {name: finish, task: [{cycles: 400}]}
        """.write(toFile: directory + "/workflows/nested.yaml", atomically: true, encoding: .utf8)
        try """
        workflows: workflows
        injections:
          - {workflow: nested, count: 120, arrival: {process: poisson, mean_interval_cycles: 3000}, seed: 5}
        """.write(toFile: directory + "/nested.yaml", atomically: true, encoding: .utf8)
        var results: [String: RunSummary.Results] = [:]
        var traces: [String: Data] = [:]
        for (name, extra) in [
            ("oracle", ["--single-process"]), ("ipc", []), ("grouped", ["--clusters-per-process", "2"]),
        ] {
            let out = directory + "/" + name
            let result = try octopus(
                [
                    "run", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload", directory + "/nested.yaml",
                    "--quiet",
                    "--out", out,
                ] + extra, in: directory, name: name)
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            results[name] = try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
                .results
            traces[name] = try Data(contentsOf: URL(fileURLWithPath: out + "/trace.json"))
        }
        let oracle = try XCTUnwrap(results["oracle"])
        XCTAssertEqual(oracle.overall.completed, 120)
        XCTAssertGreaterThan(oracle.fanoutItems, 120, "items fanned out")
        XCTAssertGreaterThan(oracle.earlyExits, 0, "items exited early")
        for name in ["ipc", "grouped"] {
            XCTAssertEqual(results[name], oracle, name)
            XCTAssertEqual(traces[name], traces["oracle"], name)
        }
    }

    /// A wafer with a dead cluster, a dead TBU and a dead link runs the suite in miniature to
    /// completion under every kind of scheduler (planned, central queue, reactive), places nothing
    /// on the dead parts, routes nothing over them, and equals the oracle across real processes.
    func testADefectiveWaferRunsTheSuiteAroundItsDefects() throws {
        let directory = try makeTemporaryDirectory("defects")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = [
            "run", "--wafer", "Configs/wafers/defective-3x3.yaml", "--workload", "Configs/workloads/suite-small.yaml",
            "--quiet",
        ]
        for scheduler in ["octopus", "fifo", "reactive", "static"] {
            var summaries: [String: RunSummary] = [:]
            var traces: [String: Data] = [:]
            for (name, extra) in [("oracle", ["--single-process"]), ("ipc", [])] {
                let out = directory + "/\(scheduler)-\(name)"
                let result = try octopus(
                    arguments + ["--scheduler", scheduler, "--out", out] + extra, in: directory,
                    name: "\(scheduler)-\(name)")
                XCTAssertEqual(result.status, 0, "\(scheduler) \(name): \(result.stderr)")
                summaries[name] = try SummaryRenderer.decode(
                    Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
                traces[name] = try Data(contentsOf: URL(fileURLWithPath: out + "/trace.json"))
            }
            let oracle = try XCTUnwrap(summaries["oracle"]).results
            XCTAssertEqual(oracle.overall.injected, 64, scheduler)
            XCTAssertEqual(oracle.overall.completed, 64, "\(scheduler): every request completes")
            XCTAssertEqual(oracle.defects?.clusters, [4])
            let dead = try XCTUnwrap(oracle.clusterDetails.first { $0.cluster == 4 })
            XCTAssertTrue(dead.tbus.isEmpty, scheduler)
            XCTAssertEqual(dead.utilisation, 0, scheduler)
            XCTAssertEqual(dead.controlBlocks, 0, scheduler)
            let partly = try XCTUnwrap(oracle.clusterDetails.first { $0.cluster == 2 })
            XCTAssertEqual(partly.tbus.map(\.tbu), [1, 2, 3], "\(scheduler): TBU 0 of cluster 2 is dead")
            for link in oracle.links ?? [] {
                XCTAssertFalse([link.from, link.to].contains(4), "\(scheduler): traffic through the dead cluster")
                XCTAssertNotEqual(Set([link.from, link.to]), Set([0, 1]), "\(scheduler): traffic over the dead link")
            }
            XCTAssertEqual(summaries["ipc"]?.results, oracle, "\(scheduler): the multi-process results differ")
            XCTAssertEqual(traces["ipc"], traces["oracle"], "\(scheduler): the multi-process trace differs")
            let trace = String(decoding: try XCTUnwrap(traces["oracle"]), as: UTF8.self)
            XCTAssertTrue(trace.contains("cluster 4 (row 1, col 1, die 0.0) defective"), scheduler)
            XCTAssertTrue(trace.contains("defective TBU 0"), scheduler)
        }
    }

    /// Contended links and ports (`links: {model: contention}`) and fill overlap
    /// (`cluster.overlap_fill`) on the small wafer: the suite in miniature completes, transfers
    /// wait for each other, blocks start with their fill loaded, and the multi-process run — where a
    /// transfer crosses a process boundary at every router — equals the oracle, for placement by
    /// load (octopus), a central queue whose blocks leave from their producer (fifo), migrations
    /// (reactive) and static routing.
    func testContendedLinksFillOverlapAndAdmissionControlEqualTheOracleAcrossProcesses() throws {
        let directory = try makeTemporaryDirectory("contention")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let wafer =
            try String(contentsOfFile: "Configs/wafers/small-2x2.yaml", encoding: .utf8)
            .replacingOccurrences(
                of: "  control_latency_cycles: 100", with: "  control_latency_cycles: 100\n  model: contention"
            )
            .replacingOccurrences(of: "  tbus: 3", with: "  tbus: 3\n  overlap_fill: true")
            + "admission: {policy: in_flight, max_in_flight: 6}\n"
        XCTAssertTrue(wafer.contains("model: contention") && wafer.contains("overlap_fill: true"))
        try wafer.write(toFile: directory + "/contended.yaml", atomically: true, encoding: .utf8)
        let arguments = [
            "run", "--wafer", directory + "/contended.yaml", "--workload", "Configs/workloads/suite-small.yaml",
            "--quiet",
        ]
        var waited: UInt64 = 0
        var overlapped: UInt64 = 0
        var refused: UInt64 = 0
        for scheduler in ["octopus", "fifo", "reactive:threshold=200000,steal=4", "static"] {
            var summaries: [String: RunSummary] = [:]
            var traces: [String: Data] = [:]
            for (name, extra) in [("oracle", ["--single-process"]), ("ipc", [])] {
                let out = directory + "/\(scheduler)-\(name)"
                let result = try octopus(
                    arguments + ["--scheduler", scheduler, "--out", out] + extra, in: directory,
                    name: "\(scheduler)-\(name)")
                XCTAssertEqual(result.status, 0, "\(scheduler) \(name): \(result.stderr)")
                summaries[name] = try SummaryRenderer.decode(
                    Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
                traces[name] = try Data(contentsOf: URL(fileURLWithPath: out + "/trace.json"))
            }
            let oracle = try XCTUnwrap(summaries["oracle"]).results
            // Six requests in flight at most: the rest are refused on arrival, by the same rule
            // for every scheduler, and no queue rejects (work inside a workflow is never lost).
            XCTAssertEqual(oracle.overall.completed + oracle.overall.rejected, 64, "\(scheduler): every request ends")
            let admission = try XCTUnwrap(oracle.admission, scheduler)
            XCTAssertEqual(admission.maxInFlight, 6)
            XCTAssertEqual(admission.rejected, oracle.overall.rejected, "\(scheduler): refused only on arrival")
            XCTAssertTrue(oracle.clusterDetails.allSatisfy { $0.rejected == 0 }, scheduler)
            refused += admission.rejected
            XCTAssertEqual(oracle.linkModel, "contention", scheduler)
            let links = try XCTUnwrap(oracle.links, scheduler)
            XCTAssertFalse(links.isEmpty, "\(scheduler): transfers crossed the mesh")
            for link in links {
                // A link is busy at least while its bytes serialise (cut-through can hold it longer).
                XCTAssertGreaterThanOrEqual(try XCTUnwrap(link.utilisation) + 1e-9, link.load, scheduler)
                waited += try XCTUnwrap(link.maxQueueingCycles)
            }
            XCTAssertFalse(try XCTUnwrap(oracle.ports, scheduler).isEmpty, scheduler)
            overlapped += try XCTUnwrap(oracle.scheduling.fillOverlapCycles, scheduler)
            XCTAssertEqual(oracle.emulation.causalityViolations, 0, scheduler)
            XCTAssertEqual(summaries["ipc"]?.results, oracle, "\(scheduler): the multi-process results differ")
            XCTAssertEqual(traces["ipc"], traces["oracle"], "\(scheduler): the multi-process trace differs")
            let trace = String(decoding: try XCTUnwrap(traces["oracle"]), as: UTF8.self)
            XCTAssertTrue(trace.contains("\"injection port\""), scheduler)
            XCTAssertTrue(trace.contains("\"cat\":\"link\""), "\(scheduler): link occupancy slices")
        }
        XCTAssertGreaterThan(waited, 0, "some transfer waited for a link")
        XCTAssertGreaterThan(refused, 0, "the admission control refused requests")
        XCTAssertGreaterThan(overlapped, 0, "some block started with its fill loaded")
    }

    /// Credit-based flow control (`cluster.flow_credits`) across real cluster processes: with
    /// ample credits every request completes and the run equals the oracle; with one credit per
    /// sender the static mapping's clusters fill their own buffers and the run stops with the
    /// same located deadlock error in both forms, never hanging.
    func testFlowControlEqualsTheOracleAndReportsDeadlocks() throws {
        let directory = try makeTemporaryDirectory("flow")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let base = try String(contentsOfFile: "Configs/wafers/small-2x2.yaml", encoding: .utf8)
        for (credits, scheduler) in [(32, "octopus"), (1, "static")] {
            let wafer = base.replacingOccurrences(of: "  tbus: 3", with: "  tbus: 3\n  flow_credits: \(credits)")
            XCTAssertTrue(wafer.contains("flow_credits: \(credits)"))
            try wafer.write(toFile: directory + "/flow-\(credits).yaml", atomically: true, encoding: .utf8)
            var outputs: [String: (status: Int32, stderr: String, results: RunSummary.Results, trace: Data)] = [:]
            for (name, extra) in [("oracle", ["--single-process"]), ("ipc", [])] {
                let out = directory + "/\(credits)-\(name)"
                let result = try octopus(
                    [
                        "run", "--wafer", directory + "/flow-\(credits).yaml", "--workload",
                        "Configs/workloads/suite-small.yaml", "--scheduler", scheduler, "--out", out, "--quiet",
                    ] + extra, in: directory, name: "flow-\(credits)-\(name)")
                let summary = try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
                outputs[name] = (
                    result.status, result.stderr, summary.results,
                    try Data(contentsOf: URL(fileURLWithPath: out + "/trace.json"))
                )
            }
            let oracle = try XCTUnwrap(outputs["oracle"])
            let ipc = try XCTUnwrap(outputs["ipc"])
            XCTAssertEqual(ipc.trace, oracle.trace, "credits \(credits): the multi-process trace differs")
            if credits == 32 {
                XCTAssertEqual(oracle.status, 0, oracle.stderr)
                XCTAssertEqual(ipc.status, 0, ipc.stderr)
                XCTAssertEqual(oracle.results.overall.completed, 64)
                XCTAssertEqual(ipc.results, oracle.results, "the multi-process results differ")
            } else {
                XCTAssertNotEqual(oracle.status, 0)
                let line = try XCTUnwrap(
                    oracle.stderr.split(separator: "\n").first { $0.contains("flow-control deadlock") },
                    oracle.stderr)
                XCTAssertTrue(line.contains("cluster.flow_credits 1"), String(line))
                XCTAssertTrue(ipc.stderr.contains(String(line)), "the same deadlock across processes: \(ipc.stderr)")
                XCTAssertEqual(ipc.results.endCycles, oracle.results.endCycles)
                // Accounted to the stop, not to the last finish: the arrays worked (and blocked)
                // until the deadlock, and no share exceeds the whole.
                XCTAssertTrue(line.contains("at cycle \(oracle.results.endCycles):"), String(line))
                let time = oracle.results.time
                XCTAssertLessThanOrEqual(time.busy + time.reconfiguring + time.starved + time.unassigned, 1.0001)
                XCTAssertGreaterThan(time.blocked, 0, "blocked arrays are what a deadlock is made of")
            }
        }
    }

    /// Every scheduler (the baselines, the ablation steps, Octopus and its clairvoyant reference)
    /// across real cluster processes: each request completes exactly once and the run equals the
    /// single-process oracle.
    func testEverySchedulerAcrossProcessesCompletesEveryRequestOnce() throws {
        let directory = try makeTemporaryDirectory("schedulers")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let schedulers = [
            "static", "reactive:threshold=200000,steal=4", "fifo", "score", "least-loaded",
            "static+dual", "static+dual+adaptive", "static+dual+adaptive+proactive", "octopus", "octopus-clairvoyant",
        ]
        XCTAssertEqual(
            Set(schedulers.map { String($0.prefix { $0 != ":" }) }), Set(SchedulerRegistry.standard.names),
            "every registered scheduler is here")
        for scheduler in schedulers {
            var results: [String: RunSummary.Results] = [:]
            for (name, extra) in [("oracle", ["--single-process"]), ("ipc", [])] {
                let out = directory + "/" + scheduler + "-" + name
                let result = try octopus(
                    common + ["--scheduler", scheduler, "--out", out] + extra, in: directory,
                    name: "\(scheduler)-\(name)")
                XCTAssertEqual(result.status, 0, "\(scheduler) \(name): \(result.stderr)")
                results[name] = try SummaryRenderer.decode(
                    Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))
                ).results
            }
            let ipc = try XCTUnwrap(results["ipc"])
            XCTAssertEqual(ipc.scheduler, scheduler)
            XCTAssertEqual(ipc.overall.injected, 112, scheduler)
            // Near saturation some schedulers fill a queue and reject a few requests on this seed.
            XCTAssertEqual(
                ipc.overall.completed + ipc.overall.rejected, 112, "\(scheduler): every request ends exactly once")
            XCTAssertGreaterThan(ipc.overall.completed, 56, scheduler)
            XCTAssertEqual(ipc.workflows.values.reduce(0) { $0 + $1.completed }, ipc.overall.completed, scheduler)
            XCTAssertEqual(ipc, results["oracle"], "\(scheduler): the multi-process run differs from the oracle")
        }
    }

    /// A bad command-line value is a usage error (exit 64, as for every option) naming the option.
    /// Quantum windows are inexact, but they are the same windows wherever the clusters run: a
    /// quantum run across processes (one per cluster, and grouped) equals the quantum run in one
    /// process — results, trace and tables — and it both deferred messages and held some.
    func testQuantumRunsAcrossProcessesEqualTheQuantumRunInOneProcess() throws {
        let directory = try makeTemporaryDirectory("quantum")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let quantum = ["--sync", "quantum:5000", "--workload", "Configs/workloads/default.yaml"]
        let variants: [(String, [String])] = [
            ("one", ["--single-process"]), ("ipc", []), ("grouped", ["--clusters-per-process", "2"]),
        ]
        var summaries: [String: RunSummary] = [:]
        var outputs: [String: [Data]] = [:]
        for (name, extra) in variants {
            let out = directory + "/" + name
            let result = try octopus(
                ["run", "--wafer", "Configs/wafers/small-2x2.yaml", "--quiet", "--out", out] + quantum + extra,
                in: directory, name: name)
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            summaries[name] = try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            outputs[name] = try ["trace.json", "requests.csv", "timeline.csv", "episodes.csv"].map {
                try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0))
            }
        }
        let one = try XCTUnwrap(summaries["one"])
        XCTAssertGreaterThan(one.results.emulation.quantumDelayedMessages, 0)
        XCTAssertGreaterThan(one.host?.synchronisation.heldMessages ?? 0, 0)
        for name in ["ipc", "grouped"] {
            XCTAssertEqual(summaries[name]?.results, one.results, "\(name): quantum results differ across processes")
            XCTAssertEqual(outputs[name], outputs["one"], "\(name): the trace or tables differ")
        }
    }

    func testABadSyncSettingIsAClearUsageError() throws {
        let directory = try makeTemporaryDirectory("bad-sync")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A window beyond a wafer file's limit (10^9 cycles) crashed the run (SIGILL).
        for bad in ["fast", "quantum:", "quantum:0", "quantum:x", "quantum:1000000001", "quantum:99999999999999999"] {
            let result = try octopus(common + ["--sync", bad, "--out", directory + "/out"], in: directory, name: "bad")
            XCTAssertEqual(result.status, 64, bad)
            XCTAssertTrue(result.stderr.contains("--sync must be exact, conservative or quantum:W"), result.stderr)
            // The usage shown is the command's, not the root's `octopus <subcommand>`.
            XCTAssertTrue(result.stderr.contains("Usage: octopus run "), result.stderr)
            XCTAssertTrue(result.stderr.contains("See 'octopus run --help'"), result.stderr)
        }
        let nested = try octopus(["workflows", "show", "nosuch"], in: directory, name: "nested")
        XCTAssertEqual(nested.status, 64, nested.stderr)
        XCTAssertTrue(nested.stderr.contains("Error: no workflow 'nosuch'"), nested.stderr)
        XCTAssertTrue(nested.stderr.contains("Usage: octopus workflows show <workflow>"), nested.stderr)
        XCTAssertTrue(nested.stderr.contains("See 'octopus workflows show --help'"), nested.stderr)
    }

    /// 400 clusters in one process: more sockets than libzmq's default per context and more
    /// files than a soft limit of 1,024 allow, both raised by the process; the oracle's trace.
    func testFourHundredClustersInOneProcessUnderASoftFileLimit() throws {
        let directory = try makeTemporaryDirectory("many")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let wafer = directory + "/wafer-20x20.yaml"
        let text = try String(contentsOfFile: repositoryRoot + "/Configs/wafers/default.yaml", encoding: .utf8)
        let resized = text.replacingOccurrences(
            of: #"(?m)^  rows: \d+"#, with: "  rows: 20", options: .regularExpression
        ).replacingOccurrences(of: #"(?m)^  columns: \d+"#, with: "  columns: 20", options: .regularExpression)
        XCTAssertNotEqual(resized, text, "the default wafer's mesh was resized")
        try resized.write(toFile: wafer, atomically: true, encoding: .utf8)
        let arguments = ["run", "--quiet", "--wafer", wafer, "--workload", "Configs/workloads/small.yaml"]
        let oracle = try octopus(
            arguments + ["--single-process", "--out", directory + "/oracle"], in: directory, name: "oracle")
        XCTAssertEqual(oracle.status, 0, oracle.stderr)
        let limited = try Launched(
            ["-c", "ulimit -Sn 1024 && exec \"$0\" \"$@\"", octopusBinary]
                + arguments + ["--clusters-per-process", "400", "--out", directory + "/one"],
            in: directory, name: "one", executable: "/bin/sh")
        XCTAssertEqual(limited.wait(seconds: 120), 0, limited.stderr)
        let summary = try SummaryRenderer.decode(
            Data(contentsOf: URL(fileURLWithPath: directory + "/one/summary.json")))
        XCTAssertEqual(summary.host?.processes, 2)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: directory + "/one/trace.json")),
            try Data(contentsOf: URL(fileURLWithPath: directory + "/oracle/trace.json")))
    }

    func testABadClustersPerProcessIsAClearUsageError() throws {
        let directory = try makeTemporaryDirectory("bad-groups")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (extra, message) in [
            (["--clusters-per-process", "0"], "--clusters-per-process must be a whole number ≥ 1 or auto, not '0'"),
            (["--clusters-per-process", "many"], "--clusters-per-process must be a whole number ≥ 1 or auto"),
            (["--clusters-per-process", "2", "--single-process"], "--clusters-per-process and --single-process"),
            (
                ["--pin-cpus", "--single-process"],
                "--pin-cpus is for cluster processes on this machine (not with --single-process)"
            ),
            (
                ["--pin-cpus", "--hosts", "a,b"],
                "--pin-cpus is for cluster processes on this machine (not with --hosts)"
            ),
        ] {
            let result = try octopus(common + extra + ["--out", directory + "/out"], in: directory, name: "bad")
            XCTAssertEqual(result.status, 64, "\(extra)")
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
        }
        let cluster = try octopus(["cluster", "--id", "0", "--count", "0"], in: directory, name: "count")
        XCTAssertEqual(cluster.status, 64)
        XCTAssertTrue(cluster.stderr.contains("--count must be 1 or more"), cluster.stderr)
    }

    /// `octopus cluster --cpu N` runs the process, every thread of it (ZeroMQ's I/O thread too),
    /// on CPU N; a CPU the system refuses, or a negative one, is a clear error.
    func testAClusterProcessRunsOnTheCPUItIsGiven() throws {
        let directory = try makeTemporaryDirectory("cluster-cpu")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let allowed = try XCTUnwrap(allowedCPUs())
        let cpu = allowed.last!
        // No coordinator listens there: the cluster waits for its setup meanwhile.
        let waiting = try Launched(
            [
                "cluster", "--coordinator", "ipc://\(directory)/nobody", "--id", "0", "--cpu", "\(cpu)",
                "--setup-timeout", "30",
            ], in: directory, name: "waiting")
        defer { kill(waiting.pid, SIGKILL) }
        XCTAssertTrue(
            eventually(10) { threads(of: waiting.pid).contains { $0.name.hasPrefix("ZMQbg/IO") } },
            "ZeroMQ's I/O thread started: \(threads(of: waiting.pid)), \(waiting.stderr)")
        let all = threads(of: waiting.pid)
        XCTAssertGreaterThanOrEqual(all.count, 2)
        for thread in all {
            XCTAssertEqual(allowedCPUs(of: waiting.pid, task: thread.task), [cpu], "thread \(thread.name)")
        }
        kill(waiting.pid, SIGKILL)
        waiting.wait(seconds: 5)

        let refused = try octopus(
            ["cluster", "--coordinator", "ipc://\(directory)/nobody", "--id", "0", "--cpu", "100000"], in: directory,
            name: "refused", seconds: 30)
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(
            refused.stderr.contains("--cpu 100000: the system refused to run this process there"), refused.stderr)
        let negative = try octopus(["cluster", "--id", "0", "--cpu=-1"], in: directory, name: "negative")
        XCTAssertEqual(negative.status, 64)
        XCTAssertTrue(negative.stderr.contains("--cpu must be 0 or more"), negative.stderr)
    }

    /// While a pinned wafer runs, every thread of the launcher's cluster processes runs on the CPU
    /// the summary names for its clusters, and the coordinator's thread on its own; the
    /// coordinator shares its CPU with the first process.
    func testARunningWafersProcessesRunOnTheCPUsItsSummaryNames() throws {
        let allowed = try XCTUnwrap(allowedCPUs())
        try XCTSkipIf(allowed.count < 2, "one CPU: nothing to pin")
        let directory = try makeTemporaryDirectory("pinned")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let out = directory + "/run"
        // Paced, so that it lasts a few seconds: clusters 0–2 in one process, 3 in another.
        let run = try Launched(
            common + ["--pace", "0.003", "--clusters-per-process", "3", "--out", out], in: directory, name: "run")
        defer { kill(run.pid, SIGKILL) }
        var observed: [Int: [Int]] = [:]  // first cluster id → the CPUs of its process's threads
        var coordinator: [Int]?
        XCTAssertTrue(
            eventually(20) {
                let children = clusterChildren(of: run.pid)
                guard children.count == 2 else { return false }
                for child in children {
                    let arguments = (FileManager.default.contents(atPath: "/proc/\(child)/cmdline") ?? Data())
                        .split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                    guard let at = arguments.firstIndex(of: "--id"), at + 1 < arguments.count,
                        let id = Int(arguments[at + 1])
                    else { return false }
                    let all = threads(of: child)
                    guard all.contains(where: { $0.name.hasPrefix("ZMQbg/IO") }) else { return false }
                    observed[id] = Array(Set(all.compactMap { allowedCPUs(of: child, task: $0.task) }.flatMap { $0 }))
                        .sorted()
                }
                // The coordinator's thread is pinned once its cluster processes are started.
                coordinator = allowedCPUs(of: run.pid)
                return coordinator?.count == 1
            }, "cluster processes \(observed), coordinator \(String(describing: coordinator)): \(run.stderr)")
        XCTAssertEqual(run.wait(seconds: 60), 0, run.stderr)
        let summary = try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
        let cpus = try XCTUnwrap(summary.host?.cpus)
        XCTAssertEqual(coordinator, [cpus.coordinator])
        XCTAssertEqual(observed[0], [cpus.clusters[0]], "every thread of clusters 0–2's process on their CPU")
        XCTAssertEqual(observed[3], [cpus.clusters[3]], "every thread of cluster 3's process on its CPU")
        XCTAssertEqual(cpus.clusters[0], cpus.coordinator)
        XCTAssertNotEqual(cpus.clusters[3], cpus.coordinator)
        XCTAssertTrue(
            run.stdout.contains(
                "pinned: the coordinator on CPU \(cpus.coordinator); clusters 0–2 on CPU \(cpus.coordinator), cluster 3 on CPU \(cpus.clusters[3])"
            ), run.stdout)
    }

    /// A run across hosts without keys, an address to listen on or a usable launch template is
    /// refused before anything is announced or started (it printed "Running wafer …" first).
    func testARunAcrossHostsThatLacksWhatItNeedsSaysSoFirst() throws {
        let directory = try makeTemporaryDirectory("bad-hosts")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keys = try octopus(["keys", "generate", directory + "/keys"], in: directory, name: "keys")
        XCTAssertEqual(keys.status, 0, keys.stderr)
        let hosts = ["--hosts", "a,b", "--out", directory + "/out"]
        for (extra, message) in [
            ([String](), "--hosts needs --keys DIR"),
            (["--keys", directory + "/keys"], "--hosts needs --listen tcp://ADDR:PORT"),
            (
                ["--keys", directory + "/keys", "--listen", "tcp://127.0.0.1:5599", "--launch", "ssh {host}"],
                "--launch: the template must contain {command}"
            ),
        ] {
            // Not quiet: the announcement is what must not come first.
            let result = try octopus(common.filter { $0 != "--quiet" } + hosts + extra, in: directory, name: "hosts")
            XCTAssertEqual(result.status, 2, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
            XCTAssertEqual(result.stdout, "", "nothing announced")
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/out"), "nothing started")
        }
    }

    /// `octopus --version` names the executable's build by the ID its linker wrote (`readelf`
    /// reads it independently), and the debug or release configuration the tests run.
    func testVersionNamesTheBuild() throws {
        let directory = try makeTemporaryDirectory("version")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let version = try octopus(["--version"], in: directory, name: "version", seconds: 30)
        XCTAssertEqual(version.status, 0, version.stderr)
        let id = try buildID(of: octopusBinary)
        XCTAssertEqual(id.count, 40, "a SHA-1 build ID in hex")
        XCTAssertTrue(version.stdout.hasPrefix("octopus build \(id) ("), version.stdout)
        XCTAssertTrue(version.stdout.contains("window protocol"), version.stdout)
    }

    /// `wafer.json` is the wafer as run in the wafer file's format: given to `--wafer` it runs the
    /// same wafer again (here with the `--sync` setting of the first run, across processes, again
    /// in one process), to the same results, and writes the same `wafer.json`.
    func testTheWaferAsRunRunsAgain() throws {
        let directory = try makeTemporaryDirectory("wafer-again")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try octopus(
            [
                "run", "--wafer", "Configs/wafers/defective-3x3.yaml", "--workload", "Configs/workloads/small.yaml",
                "--quiet", "--sync", "conservative", "--out", directory + "/first",
            ], in: directory, name: "first")
        XCTAssertEqual(first.status, 0, first.stderr)
        let again = try octopus(
            [
                "run", "--wafer", directory + "/first/wafer.json", "--workload", "Configs/workloads/small.yaml",
                "--quiet", "--single-process", "--out", directory + "/again",
            ], in: directory, name: "again")
        XCTAssertEqual(again.status, 0, again.stderr)
        let wafer = try String(contentsOfFile: directory + "/first/wafer.json", encoding: .utf8)
        XCTAssertTrue(wafer.contains("\"speculation\" : false"), "--sync conservative, as run: \(wafer)")
        XCTAssertTrue(wafer.contains("\"defects\""), wafer)
        XCTAssertEqual(try String(contentsOfFile: directory + "/again/wafer.json", encoding: .utf8), wafer)
        let validated = try octopus(["validate", directory + "/first/wafer.json"], in: directory, name: "validate")
        XCTAssertEqual(validated.status, 0, validated.stdout + validated.stderr)
        XCTAssertTrue(validated.stdout.contains("(wafer)"), validated.stdout)
        let results = try ["first", "again"].map {
            try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: directory + "/\($0)/summary.json")))
                .results
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertGreaterThan(results[0].overall.completed, 0)
        // The summary says how the run was made.
        let summary = try SummaryRenderer.decode(
            Data(contentsOf: URL(fileURLWithPath: directory + "/again/summary.json")))
        XCTAssertEqual(
            summary.host?.commandLine?.dropFirst().map { $0 },
            [
                "run", "--wafer", directory + "/first/wafer.json", "--workload", "Configs/workloads/small.yaml",
                "--quiet", "--single-process", "--out", directory + "/again",
            ])
        XCTAssertEqual(
            (try SummaryRenderer.decode(Data(contentsOf: URL(fileURLWithPath: directory + "/first/summary.json"))))
                .host?.commandLine?.contains("conservative"), true, "multi-process runs record it too")
    }

    /// A run into a directory that already holds one is refused before it starts, and leaves the
    /// earlier run as it was (it was silently replaced); `--overwrite` replaces it, leaving none
    /// of its files behind. The coordinator command refuses the same way.
    func testARunDoesNotReplaceAnEarlierRunUnlessAsked() throws {
        let directory = try makeTemporaryDirectory("out-taken")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let out = directory + "/out"
        let first = try octopus(common + ["--single-process", "--out", out], in: directory, name: "first")
        XCTAssertEqual(first.status, 0, first.stderr)
        let summary = try Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))

        let again = try octopus(
            common.filter { $0 != "--quiet" } + ["--single-process", "--out", out, "--trace-format", "perfetto"],
            in: directory, name: "again")
        XCTAssertEqual(again.status, 64, again.stderr)
        XCTAssertTrue(
            again.stderr.contains("--out '\(out)' already holds a run (summary.json, trace.json, requests.csv"),
            again.stderr)
        XCTAssertTrue(again.stderr.contains("give --overwrite to replace it"), again.stderr)
        XCTAssertEqual(again.stdout, "", "nothing announced")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")), summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/trace.pftrace"), "nothing written")

        let coordinator = try octopus(
            ["coordinator", "--wafer", "Configs/wafers/small-2x2.yaml", "--out", out], in: directory,
            name: "coordinator")
        XCTAssertEqual(coordinator.status, 64, coordinator.stderr)
        XCTAssertTrue(coordinator.stderr.contains("--out '\(out)' already holds a run"), coordinator.stderr)

        let file = directory + "/a-file"
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let onFile = try octopus(common + ["--single-process", "--out", file], in: directory, name: "file")
        XCTAssertEqual(onFile.status, 64, onFile.stderr)
        XCTAssertTrue(onFile.stderr.contains("--out '\(file)' is not a directory"), onFile.stderr)
        // A directory that cannot be made: the reason, not a file-system error's dump.
        for (unmakeable, reason) in [
            (file + "/out", "'\(file)' is not a directory"),
            ("/proc/octopus-\(getpid())/out", "cannot create the output directory"),
        ] {
            let refused = try octopus(
                common.filter { $0 != "--quiet" } + ["--out", unmakeable], in: directory, name: "unmakeable")
            XCTAssertEqual(refused.status, 2, refused.stderr)
            XCTAssertEqual(refused.stdout, "", "refused before anything is announced or started")
            XCTAssertTrue(refused.stderr.contains(reason), refused.stderr)
            XCTAssertFalse(refused.stderr.contains("NSCocoaErrorDomain"), refused.stderr)
        }

        // Replaced: the new run's files, and not the old trace.json beside the new trace.pftrace.
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out + "/notes.txt"))
        let replaced = try octopus(
            common + ["--single-process", "--out", out, "--trace-format", "perfetto", "--overwrite"], in: directory,
            name: "replaced")
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/trace.pftrace"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/trace.json"), "the old trace is gone")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/summary.json"))
        XCTAssertEqual(try String(contentsOfFile: out + "/notes.txt", encoding: .utf8), "mine", "not a run's file")
    }

    func testBadConfigurationIsAClearErrorWithExitCode2() throws {
        let directory = try makeTemporaryDirectory("bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let wafer = directory + "/bad.yaml"
        try "mesh: {rows: 2, columns: 2}\ncluster:\n  tbus: lots\n".write(
            toFile: wafer, atomically: true, encoding: .utf8)
        let result = try octopus(
            ["run", "--wafer", wafer, "--out", directory + "/out"], in: directory, name: "bad", seconds: 30)
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("\(wafer):3: cluster.tbus: expected an integer"), result.stderr)
        let unknown = try octopus(["run", "--transport", "udp"], in: directory, name: "transport", seconds: 30)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("--transport"), unknown.stderr)
    }

    func testAKilledClusterStopsTheWholeWafer() throws {
        let directory = try makeTemporaryDirectory("kill")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Paced, so that the run is still going when the cluster dies, however fast the build.
        let launcher = try Launched(
            ["run", "--pace", "0.0005", "--out", directory + "/out"], in: directory, name: "launcher")
        XCTAssertTrue(eventually(30) { clusterChildren(of: launcher.pid).count == 16 }, "16 cluster processes started")
        let victim = try XCTUnwrap(clusterChildren(of: launcher.pid).first)
        usleep(300_000)
        kill(victim, SIGKILL)
        let status = launcher.wait(seconds: 30)
        XCTAssertEqual(status, 1)
        XCTAssertTrue(launcher.stderr.contains("(pid \(victim)) killed by signal 9"), launcher.stderr)
        XCTAssertTrue(
            eventually(10) { clusterChildren(of: launcher.pid).isEmpty }, "no cluster process outlives the launcher")
        // Nothing lost: a closed trace and a summary marked incomplete, saying why and how far it got.
        XCTAssertNoThrow(try readJSON(directory + "/out/trace.json"))
        let summary = try readJSON(directory + "/out/summary.json")
        XCTAssertEqual(summary["complete"] as? Bool, false)
        // Whichever notices first names the cause: the supervisor (the child's exit status) or the
        // coordinator (the cluster's connection is gone, e.g. when killed before it registered).
        let reason = summary["stopped_because"] as? String ?? ""
        XCTAssertTrue(
            reason.contains("killed by signal 9") || (reason.contains("cluster") && reason.contains("lost")),
            "\(summary)")
        XCTAssertNotNil(summary["virtual_time_cycles"] as? Int)
    }

    /// A process hosting several clusters dies: the wafer stops, naming it, and no process is left.
    func testAKilledProcessOfSeveralClustersStopsTheWholeWafer() throws {
        let directory = try makeTemporaryDirectory("kill-group")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let launcher = try Launched(
            [
                "run", "--clusters-per-process", "8", "--workload", "Configs/workloads/mixed.yaml", "--out",
                directory + "/out",
            ], in: directory, name: "launcher")
        XCTAssertTrue(eventually(30) { clusterChildren(of: launcher.pid).count == 2 }, "2 cluster processes started")
        let victim = try XCTUnwrap(clusterChildren(of: launcher.pid).first)
        usleep(300_000)
        kill(victim, SIGKILL)
        XCTAssertEqual(launcher.wait(seconds: 30), 1)
        XCTAssertTrue(
            launcher.stderr.contains("(pid \(victim)) killed by signal 9")
                || (launcher.stderr.contains("cluster") && launcher.stderr.contains("lost")), launcher.stderr)
        XCTAssertTrue(
            eventually(10) { clusterChildren(of: launcher.pid).isEmpty }, "no cluster process outlives the launcher")
        XCTAssertEqual(try readJSON(directory + "/out/summary.json")["complete"] as? Bool, false)
    }

    func testCtrlCStopsEveryProcess() throws {
        let directory = try makeTemporaryDirectory("sigint")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let launcher = try startRunningMixedWafer(in: directory)
        kill(launcher.pid, SIGINT)
        XCTAssertEqual(launcher.wait(seconds: 30), 130, launcher.stderr)
        XCTAssertTrue(launcher.stderr.contains("interrupted"), launcher.stderr)
        XCTAssertTrue(launcher.stderr.contains("stopping at the end of this window"), launcher.stderr)
        XCTAssertTrue(
            eventually(10) { clusterChildren(of: launcher.pid).isEmpty }, "no cluster process outlives Ctrl-C")
        // The trace written so far is still a complete JSON document, and the summary says the run
        // was interrupted — with the clusters' statistics up to where it stopped.
        XCTAssertNoThrow(try readJSON(directory + "/out/trace.json"))
        let summary = try readJSON(directory + "/out/summary.json")
        XCTAssertEqual(summary["complete"] as? Bool, false)
        XCTAssertTrue((summary["stopped_because"] as? String ?? "").contains("interrupted by signal 2"), "\(summary)")
        let results = try XCTUnwrap(summary["results"] as? [String: Any])
        XCTAssertGreaterThan(results["utilisation"] as? Double ?? 0, 0, "the clusters' statistics were collected")
        XCTAssertGreaterThan((results["time"] as? [String: Double])?["busy"] ?? 0, 0)
        XCTAssertNotNil(summary["virtual_time_cycles"] as? Int)
    }

    /// Starts `octopus run` of the mixed workload (17 processes) into `directory/out` and returns
    /// once its windows are running (the trace has a slice).
    private func startRunningMixedWafer(in directory: String) throws -> Launched {
        let launcher = try Launched(
            ["run", "--workload", "Configs/workloads/mixed.yaml", "--out", directory + "/out"], in: directory,
            name: "launcher")
        XCTAssertTrue(eventually(30) { clusterChildren(of: launcher.pid).count == 16 })
        XCTAssertTrue(
            eventually(60) {
                let trace = try? String(contentsOfFile: directory + "/out/trace.json", encoding: .utf8)
                return trace?.contains(#""ph":"X""#) ?? false
            }, "the wafer runs: \(launcher.stderr)")
        return launcher
    }

    /// A signal while a cluster cannot answer (stopped): the wafer gives up on a window boundary
    /// after the grace period and stops at once, without statistics — or sooner on a second signal.
    func testASignalWhileAClusterIsStuckStopsWithoutStatistics() throws {
        for secondSignal in [false, true] {
            let directory = try makeTemporaryDirectory("sigint-stuck-\(secondSignal)")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let launcher = try startRunningMixedWafer(in: directory)
            let stuck = try XCTUnwrap(clusterChildren(of: launcher.pid).first)
            kill(stuck, SIGSTOP)
            defer { kill(stuck, SIGCONT) }
            kill(launcher.pid, SIGINT)
            if secondSignal {
                usleep(500_000)
                kill(launcher.pid, SIGINT)
            }
            XCTAssertEqual(launcher.wait(seconds: 60), 130, launcher.stderr)
            XCTAssertEqual(
                launcher.stderr.contains("did not reach a window boundary"), !secondSignal,
                "second signal \(secondSignal): \(launcher.stderr)")
            XCTAssertTrue(
                eventually(15) { clusterChildren(of: launcher.pid).isEmpty }, "no cluster process outlives the run")
            XCTAssertEqual(try readJSON(directory + "/out/summary.json")["complete"] as? Bool, false)
        }
    }

    func testSIGTERMStopsEveryProcessAndKeepsTheWork() throws {
        let directory = try makeTemporaryDirectory("sigterm")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Paced, so that the run is still going when the signal comes, however fast the build.
        let launcher = try Launched(
            ["run", "--pace", "0.0005", "--out", directory + "/out"], in: directory, name: "launcher")
        XCTAssertTrue(eventually(30) { clusterChildren(of: launcher.pid).count == 16 })
        usleep(300_000)
        kill(launcher.pid, SIGTERM)
        XCTAssertEqual(launcher.wait(seconds: 30), 130, launcher.stderr)
        XCTAssertTrue(
            eventually(10) { clusterChildren(of: launcher.pid).isEmpty }, "no cluster process outlives SIGTERM")
        XCTAssertNoThrow(try readJSON(directory + "/out/trace.json"))
        XCTAssertEqual(try readJSON(directory + "/out/summary.json")["complete"] as? Bool, false)
    }
}

final class ValidateCommandTests: XCTestCase {
    func testEveryShippedFileValidates() throws {
        let directory = try makeTemporaryDirectory("validate")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var files: [String] = []
        for folder in ["wafers", "workflows", "workloads", "serving/workflows"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/Configs/" + folder)
                .filter { $0.hasSuffix(".yaml") }
            files += names.map { "Configs/\(folder)/\($0)" }
        }
        let result = try octopus(["validate"] + files, in: directory, name: "validate", seconds: 60)
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertEqual(result.stdout.split(separator: "\n").filter { $0.hasPrefix("ok: ") }.count, files.count)
        let bad = directory + "/workflows/bad.yaml"
        try FileManager.default.createDirectory(atPath: directory + "/workflows", withIntermediateDirectories: true)
        try "name: bad\nblocks:\n  - {name: a, task: [{model: nope}]}\n".write(
            toFile: bad, atomically: true, encoding: .utf8)
        let failed = try octopus(["validate", bad], in: directory, name: "validate-bad", seconds: 60)
        XCTAssertEqual(failed.status, 2, "an invalid file is bad input")
        XCTAssertTrue(
            failed.stdout.contains("bad.yaml:3: blocks[0].task[0].model: no layer table 'nope'"), failed.stdout)
        // Unusable paths say what is wrong with them.
        try Data().write(to: URL(fileURLWithPath: directory + "/empty.yaml"))
        try Data([0xff, 0xfe, 0x41]).write(to: URL(fileURLWithPath: directory + "/latin.yaml"))
        let cases = [
            ("", "an empty path names no file"), (directory + "/missing.yaml", "no such file"),
            (directory + "/workflows", "is a directory"), (directory + "/empty.yaml", "empty file"),
            (directory + "/latin.yaml", "not UTF-8"), ("/dev/null", "not a regular file"),
        ]
        for (path, message) in cases {
            let result = try octopus(["validate", path], in: directory, name: "validate-path", seconds: 60)
            XCTAssertEqual(result.status, 2, path)
            XCTAssertTrue(result.stdout.contains(message), "\(path): \(result.stdout)")
        }
        // Outside the Configs folders a file's kind is told by its top-level keys: a workload that
        // names its workflows' directory (`workflows:`) is a workload, a wafer in JSON a wafer.
        let workload = directory + "/mine.yaml"
        try
            "workflows: \(repositoryRoot)/Configs/workflows\ninjections:\n  - {workflow: recsys, count: 2, arrival: {process: periodic, period_cycles: 10}}\n"
            .write(toFile: workload, atomically: true, encoding: .utf8)
        let wafer = directory + "/wafer.json"
        try #"{"mesh": {"rows": 2, "columns": 2}, "name": "json"}"#.write(
            toFile: wafer, atomically: true, encoding: .utf8)
        let kinds = try octopus(["validate", workload, wafer], in: directory, name: "validate-kinds", seconds: 60)
        XCTAssertEqual(kinds.status, 0, kinds.stdout)
        XCTAssertTrue(kinds.stdout.contains("ok: \(workload) (workload)"), kinds.stdout)
        XCTAssertTrue(kinds.stdout.contains("ok: \(wafer) (wafer)"), kinds.stdout)
    }
}

/// What a newcomer sees first: the summary table says its times are virtual, the README's
/// `pea --config` example has its file, and `graph` needs no format flag.
final class NewcomerTests: XCTestCase {
    func testTheSummaryTableLabelsVirtualTimeAndShowsMeanAndMisses() throws {
        let directory = try makeTemporaryDirectory("table")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try octopus(
            [
                "run", "--single-process", "--quiet", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload",
                "Configs/workloads/suite-small.yaml", "--out", directory + "/out",
            ], in: directory, name: "run")
        XCTAssertEqual(result.status, 0, result.stderr)
        for label in ["in virtual time", "virtual µs", "virtual s", "mean", "missed"] {
            XCTAssertTrue(result.stdout.contains(label), "no '\(label)' in:\n\(result.stdout)")
        }
        // A workflow with a deadline shows its misses, as summary.json counts them.
        let summary = try readJSON(directory + "/out/summary.json")
        let workflows = (summary["results"] as? [String: Any])?["workflows"] as? [String: [String: Any]] ?? [:]
        let withDeadline = workflows.filter { $0.value["deadline_misses"] != nil }
        XCTAssertFalse(withDeadline.isEmpty, "the suite has a workflow with a deadline")
        for (name, fields) in withDeadline {
            let row = result.stdout.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            let cells = row?.split(separator: " ", omittingEmptySubsequences: true).map(String.init) ?? []
            XCTAssertEqual(
                cells.count > 4 ? cells[4] : nil, "\(fields["deadline_misses"] as? Int ?? -1)", "\(row ?? "")")
        }
    }

    func testTheShippedSCALESimConfigAndTheGraphCommandWork() throws {
        let directory = try makeTemporaryDirectory("newcomer")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pea = try octopus(
            ["pea", "--config", "Configs/scalesim/octopus-tbu.cfg", "--topology", "Configs/topologies/resnet50.csv"],
            in: directory, name: "pea")
        XCTAssertEqual(pea.status, 0, pea.stderr)
        XCTAssertTrue(pea.stdout.contains("PE array 32×32 OS"), pea.stdout)
        let graph = try octopus(["graph", "detect-classify"], in: directory, name: "graph")
        XCTAssertEqual(graph.status, 0, graph.stderr)
        XCTAssertTrue(graph.stdout.hasPrefix("digraph"), graph.stdout)
        let old = try octopus(["graph", "detect-classify", "--dot"], in: directory, name: "graph-dot")
        XCTAssertEqual(old.stdout, graph.stdout, "--dot is still accepted and changes nothing")
    }

    /// Shapes and arrays whose timing would overflow are refused with an error naming the option,
    /// the file and line or the field — they used to crash `pea` (SIGILL) — and a stride beyond
    /// the input, which is a valid layer, is timed.
    func testPEARefusesWhatItCannotTimeAndTimesHugeStrides() throws {
        let directory = try makeTemporaryDirectory("pea-limits")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let huge = "\(Int.max)"
        for (arguments, says) in [
            (["--gemm", "\(huge),1,1", "--array", "4x4", "--dataflow", "ws"], "--gemm"),
            (["--gemm", "1,1,1", "--array", "\(huge)x1", "--dataflow", "is"], "--array"),
            (["--gemm", "1,1,1", "--array", "4097x4", "--dataflow", "is"], "--array"),
            (["--gemm", "1,1,1", "--sram-bytes", huge], "--sram-bytes"),
            (["--gemm", "1,1,1", "--bandwidth", huge], "--bandwidth"),
            (["--gemm", "4,4,4", "--cluster-buffer-bytes", huge], "--cluster-buffer-bytes"),
            (
                ["--topology", "Configs/topologies/resnet50.csv", "--array", "8x8", "--repeat", huge],
                "--repeat must be 1 to"
            ),
        ] {
            let refused = try octopus(["pea"] + arguments, in: directory, name: "pea-refused")
            XCTAssertEqual(refused.status, 64, "\(arguments): \(refused.stderr)")
            XCTAssertTrue(refused.stderr.contains(says), "\(arguments): \(refused.stderr)")
        }
        let config = try String(contentsOfFile: repositoryRoot + "/Configs/scalesim/octopus-tbu.cfg", encoding: .utf8)
        for field in ["ArrayHeight", "IfmapSramSzkB", "Bandwidth"] {
            let lines = config.split(separator: "\n", omittingEmptySubsequences: false).map {
                $0.hasPrefix(field + ":") ? "\(field): \(huge)" : String($0)
            }
            let path = directory + "/\(field).cfg"
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let refused = try octopus(["pea", "--config", path, "--gemm", "8,8,8"], in: directory, name: "pea-cfg")
            XCTAssertEqual(refused.status, 2, refused.stderr)
            XCTAssertTrue(refused.stderr.contains("\(field).cfg:"), refused.stderr)
            XCTAssertTrue(refused.stderr.contains("architecture_presets.\(field)"), refused.stderr)
        }
        let table = directory + "/wide.csv"
        try "Layer, H, W, FH, FW, C, N, S,\nwide, 32, 32, 3, 3, 3, 16, \(huge),\n".write(
            toFile: table, atomically: true, encoding: .utf8)
        let wide = try octopus(["pea", "--topology", table, "--json"], in: directory, name: "pea-wide")
        XCTAssertEqual(wide.status, 0, wide.stderr)
        XCTAssertTrue(wide.stdout.contains("\"wide\""), wide.stdout)
    }
}

/// The progress line: drawn on a terminal (a pseudo-terminal made by util-linux's `script`),
/// absent from logs and pipes.
final class ProgressLineTests: XCTestCase {
    func testProgressIsDrawnOnATerminalOnly() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            throw XCTSkip("util-linux's script(1) is needed to give the run a terminal")
        }
        let directory = try makeTemporaryDirectory("progress")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let command =
            "\(octopusBinary) run --wafer Configs/wafers/small-2x2.yaml --workload Configs/workloads/small.yaml --out \(directory)/tty"
        let terminal = try Launched(
            ["-qec", command, "/dev/null"], in: directory, name: "tty", executable: "/usr/bin/script")
        XCTAssertEqual(terminal.wait(seconds: 120), 0, terminal.stdout)
        XCTAssertTrue(terminal.stdout.contains("· requests "), terminal.stdout)
        XCTAssertTrue(terminal.stdout.contains("windows/s"), terminal.stdout)
        let piped = try octopus(
            [
                "run", "--wafer", "Configs/wafers/small-2x2.yaml", "--workload", "Configs/workloads/small.yaml",
                "--out",
                directory + "/pipe",
            ], in: directory, name: "pipe")
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertFalse(piped.stderr.contains("· requests ") || piped.stdout.contains("· requests "), piped.stderr)
    }
}

/// `--pace` ties virtual time to wall time without changing any result.
final class PacingTests: XCTestCase {
    func testAPacedRunNeverRunsAheadAndKeepsItsResults() throws {
        let directory = try makeTemporaryDirectory("pace")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let wafer = ["--wafer", "Configs/wafers/small-2x2.yaml", "--workload", "Configs/workloads/small.yaml"]
        let oracle = try octopus(
            ["run", "--single-process", "--quiet", "--out", directory + "/oracle"] + wafer, in: directory,
            name: "oracle")
        XCTAssertEqual(oracle.status, 0, oracle.stderr)
        let expected = try readJSON(directory + "/oracle/summary.json")["results"] as? NSDictionary
        // Slower than the model runs even in a debug build, so the pace is what limits the run.
        let pace = 0.003
        for mode in [["--single-process"], []] {
            let out = directory + "/paced\(mode.count)"
            let run = try octopus(
                ["run", "--quiet", "--pace", "\(pace)", "--out", out] + mode + wafer, in: directory, name: "paced")
            XCTAssertEqual(run.status, 0, run.stderr)
            let summary = try readJSON(out + "/summary.json")
            XCTAssertEqual(summary["results"] as? NSDictionary, expected, "pacing changed the results (\(mode))")
            let host = try XCTUnwrap(summary["host"] as? [String: Any])
            XCTAssertEqual(host["pace"] as? Double, pace)
            // Never ahead of the schedule: at most one window (20,000 cycles of 7 million) early.
            let reached = try XCTUnwrap(host["pace_reached"] as? Double)
            XCTAssertLessThanOrEqual(reached, pace * 1.01, "\(mode)")
            XCTAssertTrue(run.stdout.contains("paced at 0.003 virtual µs per wall µs"), run.stdout)
        }
        // Zero, and a pace so slow nothing would visibly happen (1e-300 waited forever).
        for pace in ["0", "1e-300"] {
            let bad = try octopus(["run", "--pace", pace] + wafer, in: directory, name: "bad-pace")
            XCTAssertEqual(bad.status, 64, bad.stderr)
            XCTAssertTrue(bad.stderr.contains("--pace must be a finite ratio of at least 0.000001"), bad.stderr)
        }
        // Options of --hosts without it were silently ignored.
        for option in ["--launch", "--remote-octopus"] {
            let alone = try octopus(["run", option, "x"] + wafer, in: directory, name: "without-hosts")
            XCTAssertEqual(alone.status, 64, alone.stderr)
            XCTAssertTrue(alone.stderr.contains("\(option) is for --hosts"), alone.stderr)
        }
    }
}
