import Scheduling
import WaferModel

/// Turns what a session recorded into a ``RunSummary``.
public enum SummaryBuilder {
    /// Builds the deterministic results of `session` from the clusters' final `stats`.
    public static func results(session: WaferSession, stats: [ClusterStats], placement: String, dispatch: String) -> RunSummary.Results {
        let coordinator = session.coordinator
        let config = coordinator.config
        let library = coordinator.library
        let records = coordinator.records
        let end = session.accountingEnd

        let overall = requests(records.map(\.outcome), injected: coordinator.arrived.reduce(0, +), config: config)
        var runs: [TaskType: UInt64] = [:]
        for s in stats { runs.merge(s.blockRuns, uniquingKeysWith: +) }
        var workflows: [String: RunSummary.Requests] = [:]
        for (index, graph) in library.workflows.enumerated() where coordinator.arrived[index] > 0 {
            let outcomes = records.map(\.outcome).filter { Int($0.workflow) == index }
            var summary = requests(outcomes, injected: coordinator.arrived[index], config: config, deadline: graph.deadlineCycles)
            var blockRuns: [String: UInt64] = [:]
            for (block, b) in graph.blocks.enumerated() { blockRuns[b.name] = runs[TaskType(workflow: index, block: block)] ?? 0 }
            summary.blockRuns = blockRuns
            workflows[graph.name] = summary
        }

        var clusters: [RunSummary.Cluster] = []
        var totals = TBUStats()
        var byKind = coordinator.messagesSent
        var byteHops: UInt64 = 0, localFlows: UInt64 = 0
        var quantumDelayed: UInt64 = 0, quantumCycles: Cycle = 0, violations: UInt64 = 0, events = coordinator.eventCount
        for s in stats {
            let tbus = s.tbus.enumerated().map { index, t in
                RunSummary.TBU(tbu: index, tasks: t.tasks, utilisation: fraction(t.busyCycles, end),
                               reconfigurations: t.reconfigurations, time: breakdown(t, span: end))
            }
            let busy = s.tbus.reduce(Cycle(0)) { $0 + $1.busyCycles }
            clusters.append(RunSummary.Cluster(cluster: s.cluster, utilisation: fraction(busy, end * Cycle(s.tbus.count)),
                                               controlBlocks: s.controlBlocks, rejected: s.rejected, tbus: tbus))
            for t in s.tbus {
                totals.busyCycles += t.busyCycles
                totals.reconfigurationCycles += t.reconfigurationCycles
                totals.starvedCycles += t.starvedCycles
                totals.blockedCycles += t.blockedCycles
                totals.unassignedCycles += t.unassignedCycles
            }
            for (kind, count) in s.messagesSent { byKind[kind, default: 0] += count }
            byteHops += s.byteHops
            localFlows += s.localFlows
            quantumDelayed += s.quantumDelayedMessages
            quantumCycles += s.quantumDelayCycles
            violations += s.causalityViolations
            events += s.events
        }
        let tbuCount = Cycle(config.clusterCount * config.cluster.tbus)
        let sync = session.synchronizer
        return RunSummary.Results(
            wafer: config.name, clusters: config.clusterCount, tbusPerCluster: config.cluster.tbus,
            clockMhz: config.clockMHz, seed: config.seed, placementPolicy: placement, dispatchPolicy: dispatch,
            mode: coordinator.functional == nil ? "timing" : "functional",
            endCycles: end, overall: overall, workflows: workflows,
            utilisation: fraction(totals.busyCycles, end * tbuCount),
            time: breakdown(totals, span: end * tbuCount), clusterDetails: clusters,
            fanoutItems: stats.reduce(0) { $0 + $1.fanoutItems }, earlyExits: stats.reduce(0) { $0 + $1.earlyExits },
            messages: RunSummary.Messages(total: byKind.values.reduce(0, +), byKind: byKind, byteHops: byteHops, localFlows: localFlows),
            emulation: RunSummary.Emulation(
                syncMode: config.sync.mode.rawValue, lookaheadCycles: sync.lookahead, windows: sync.windows, clusterWindows: session.activeClusterWindows,
                skippedCycles: sync.skippedCycles, events: events, quantumDelayedMessages: quantumDelayed,
                quantumDelayCycles: quantumCycles, causalityViolations: violations))
    }

    /// Host measurements for a run that took `wallSeconds` in `processes` processes.
    public static func host(session: WaferSession, results: RunSummary.Results, wallSeconds: Double, processes: Int) -> RunSummary.Host {
        let wall = max(wallSeconds, 1e-9)
        let windows = Double(results.emulation.windows)
        let windowSeconds = Double(session.host.windowNanos) / 1e9
        let overhead = session.host.clusterComputeNanos == 0 || session.host.windowNanos == 0
            ? 0 : max(0, 1 - Double(session.host.clusterComputeNanos) / Double(session.host.windowNanos))
        return RunSummary.Host(
            processes: processes, wallSeconds: wallSeconds,
            eventsPerSecond: Double(results.emulation.events) / wall,
            taskBlocksPerSecond: Double(results.clusterDetails.reduce(0) { $0 + $1.tbus.reduce(0) { $0 + $1.tasks } }) / wall,
            windowsPerSecond: windows / wall,
            meanWindowMicroseconds: windows > 0 ? windowSeconds / windows * 1e6 : 0,
            virtualCyclesPerWallSecond: Double(results.endCycles) / wall,
            syncOverheadFraction: overhead)
    }

    static func requests(_ outcomes: [RequestOutcome], injected: UInt64, config: WaferConfig, deadline: Cycle? = nil) -> RunSummary.Requests {
        let completed = outcomes.filter { $0.status == .completed }
        let latencies = completed.map { $0.finished - $0.injected }.sorted()
        var latency: RunSummary.Latency?
        if !latencies.isEmpty {
            func rank(_ p: Double) -> Cycle {
                // Nearest rank: the smallest value with at least p% of observations at or below it.
                let index = Int((p / 100 * Double(latencies.count)).rounded(.up)) - 1
                return latencies[min(max(index, 0), latencies.count - 1)]
            }
            let mean = Double(latencies.reduce(0, +)) / Double(latencies.count)
            let (p50, p95, p99, maximum) = (rank(50), rank(95), rank(99), latencies.last!)
            latency = RunSummary.Latency(
                p50Cycles: p50, p95Cycles: p95, p99Cycles: p99, maxCycles: maximum, meanCycles: mean,
                p50Us: config.microseconds(p50), p95Us: config.microseconds(p95),
                p99Us: config.microseconds(p99), maxUs: config.microseconds(maximum))
        }
        let first = outcomes.map(\.injected).min() ?? 0
        let last = completed.map(\.finished).max() ?? first
        let makespan = last - first
        let seconds = config.microseconds(makespan) / 1e6
        return RunSummary.Requests(
            injected: injected, completed: UInt64(completed.count),
            rejected: UInt64(outcomes.count - completed.count), latency: latency,
            throughputPerSecond: seconds > 0 ? Double(completed.count) / seconds : 0,
            makespanCycles: makespan, taskBlocks: completed.reduce(0) { $0 + UInt64($1.tasksDone) },
            deadlineMisses: deadline.map { limit in UInt64(latencies.lazy.filter { $0 > limit }.count) }, blockRuns: nil)
    }

    static func breakdown(_ t: TBUStats, span: Cycle) -> RunSummary.TimeBreakdown {
        RunSummary.TimeBreakdown(
            busy: fraction(t.busyCycles, span), reconfiguring: fraction(t.reconfigurationCycles, span),
            starved: fraction(t.starvedCycles, span), blocked: fraction(t.blockedCycles, span),
            unassigned: fraction(t.unassignedCycles, span))
    }

    static func fraction(_ part: Cycle, _ whole: Cycle) -> Double {
        whole == 0 ? 0 : Double(part) / Double(whole)
    }
}
