import Foundation
import Scheduling
import WaferModel

/// Turns what a session recorded into a ``RunSummary``.
public enum SummaryBuilder {
    /// Builds the deterministic results of `session` from the clusters' final `stats`.
    public static func results(session: WaferSession, stats: [ClusterStats]) -> RunSummary.Results {
        let coordinator = session.coordinator
        let config = coordinator.config
        let library = coordinator.library
        let records = coordinator.records
        let end = session.accountingEnd

        let overall = requests(records.map(\.outcome), injected: coordinator.arrived.reduce(0, +), config: config)
        var runs: [TaskType: UInt64] = [:]
        for s in stats { runs.merge(s.blockRuns) { $0.adding($1) } }
        var workflows: [String: RunSummary.Requests] = [:]
        for (index, graph) in library.workflows.enumerated() where coordinator.arrived[index] > 0 {
            let outcomes = records.map(\.outcome).filter { Int($0.workflow) == index }
            var summary = requests(
                outcomes, injected: coordinator.arrived[index], config: config, deadline: graph.deadlineCycles)
            var blockRuns: [String: UInt64] = [:]
            for (block, b) in graph.blocks.enumerated() {
                blockRuns[b.name] = runs[TaskType(workflow: index, block: block)] ?? 0
            }
            summary.blockRuns = blockRuns
            workflows[graph.name] = summary
        }

        var clusters: [RunSummary.Cluster] = []
        var totals = TBUStats()
        var byKind = coordinator.messagesSent
        var byteHops: UInt64 = 0
        var localFlows: UInt64 = 0
        var quantumDelayed: UInt64 = 0
        var quantumCycles: Cycle = 0
        var violations: UInt64 = 0
        var events = coordinator.eventCount
        let mesh = config.mesh
        for s in stats {
            let tbus = s.tbus.enumerated().map { index, t in
                RunSummary.TBU(
                    tbu: mesh.physicalTBU(index, of: s.cluster), tasks: t.tasks,
                    utilisation: fraction(t.busyCycles, end),
                    reconfigurations: t.reconfigurations, time: breakdown(t, span: end))
            }
            let busy = total(s.tbus.lazy.map(\.busyCycles))
            clusters.append(
                RunSummary.Cluster(
                    cluster: s.cluster, utilisation: fraction(busy, product(end, Cycle(s.tbus.count))),
                    controlBlocks: s.controlBlocks, rejected: s.rejected, tbus: tbus))
            for t in s.tbus {
                totals.busyCycles = totals.busyCycles.adding(t.busyCycles)
                totals.reconfigurationCycles = totals.reconfigurationCycles.adding(t.reconfigurationCycles)
                totals.starvedCycles = totals.starvedCycles.adding(t.starvedCycles)
                totals.blockedCycles = totals.blockedCycles.adding(t.blockedCycles)
                totals.unassignedCycles = totals.unassignedCycles.adding(t.unassignedCycles)
            }
            for (kind, count) in s.messagesSent { byKind[kind] = byKind[kind, default: 0].adding(count) }
            byteHops = byteHops.adding(s.byteHops)
            localFlows = localFlows.adding(s.localFlows)
            quantumDelayed = quantumDelayed.adding(s.quantumDelayedMessages)
            quantumCycles = quantumCycles.adding(s.quantumDelayCycles)
            violations = violations.adding(s.causalityViolations)
            events = events.adding(s.events)
        }
        let span = product(end, Cycle(config.mesh.totalWorkingTBUs))
        let sync = session.synchronizer
        return RunSummary.Results(
            wafer: config.name, clusters: config.clusterCount, tbusPerCluster: config.cluster.tbus,
            clockMhz: config.clockMHz, seed: config.seed, scheduler: coordinator.scheduler.description,
            mode: coordinator.functional == nil ? "timing" : "functional",
            endCycles: end, overall: overall, workflows: workflows,
            utilisation: fraction(totals.busyCycles, span),
            time: breakdown(totals, span: span), clusterDetails: clusters,
            fanoutItems: total(stats.lazy.map(\.fanoutItems)), earlyExits: total(stats.lazy.map(\.earlyExits)),
            messages: RunSummary.Messages(
                total: total(byKind.values), byKind: byKind, byteHops: byteHops.adding(coordinator.byteHops),
                localFlows: localFlows.adding(coordinator.localFlows)),
            contagion: contagion(stats, mesh: config.mesh, window: config.cluster.loadSignalPeriod, end: end),
            imbalance: imbalance(coordinator.imbalance, end: end, config: config),
            scheduling: RunSummary.Scheduling(
                decisions: coordinator.decisions.adding(total(stats.lazy.map(\.decisions))),
                reconfigurations: total(stats.lazy.flatMap(\.tbus).map(\.reconfigurations)),
                proactiveReconfigurations: total(stats.lazy.map(\.proactiveReconfigurations)),
                splits: total(stats.lazy.map(\.splits)),
                controlBlocksOnArrays: total(stats.lazy.map(\.controlOnTBUs)),
                migrations: total(stats.lazy.map(\.migrations)),
                migrationByteHops: total(stats.lazy.map(\.migrationByteHops)),
                planChanges: coordinator.planChanges,
                predictionError: coordinator.predictionErrors.isEmpty
                    ? nil
                    : coordinator.predictionErrors.reduce(0) { $0 + $1.error }
                        / Double(coordinator.predictionErrors.count),
                predictionErrorTimeline: coordinator.predictionErrors.isEmpty
                    ? nil : bucketMeans(coordinator.predictionErrors.map { ($0.time, $0.error) }, end: end),
                fillOverlapBlocks: config.cluster.overlapsFill ? total(stats.lazy.map(\.fillOverlapBlocks)) : nil,
                fillOverlapCycles: config.cluster.overlapsFill ? total(stats.lazy.map(\.fillOverlapCycles)) : nil),
            emulation: RunSummary.Emulation(
                syncMode: config.sync.mode.rawValue, lookaheadCycles: sync.lookahead, events: events,
                quantumDelayedMessages: quantumDelayed,
                quantumDelayCycles: quantumCycles, causalityViolations: violations),
            links: links(stats, coordinator: coordinator.links, config: config, end: end),
            linkModel: config.interconnect.model == .delay ? nil : config.interconnect.model.rawValue,
            ports: config.interconnect.model == .delay ? nil : ports(stats, end: end),
            defects: config.defects.isEmpty ? nil : config.defects,
            admission: config.queuesReject
                ? nil
                : RunSummary.Admission(
                    policy: config.admission.policy.rawValue, maxInFlight: config.admissionLimit,
                    rejected: coordinator.admissionRejections))
    }

    /// Every link that carried traffic, by link index.
    static func links(_ stats: [ClusterStats], coordinator: LinkTraffic, config: WaferConfig, end: Cycle)
        -> [RunSummary.Link]
    {
        var total = coordinator
        for s in stats { total.merge(s.links) }
        let mesh = config.mesh
        return total.bytes.keys.sorted().map { index in
            let link = mesh.link(index)
            let bandwidth =
                link.interDie ? config.interDie.bandwidthBytesPerCycle : config.intraDie.bandwidthBytesPerCycle
            let bytes = total.bytes[index] ?? 0
            return RunSummary.Link(
                from: link.from, to: link.to, interDie: link.interDie, bytes: bytes,
                transfers: total.transfers[index] ?? 0,
                load: end == 0 ? 0 : Double(bytes) / (Double(bandwidth) * Double(end)),
                occupancy: config.interconnect.model == .delay ? nil : total.occupancy[index] ?? LinkOccupancy(),
                end: end)
        }
    }

    /// Every injection and ejection port that carried a transfer (contention link model).
    static func ports(_ stats: [ClusterStats], end: Cycle) -> [RunSummary.Port] {
        var total = LinkTraffic()
        for s in stats { total.merge(s.links) }
        return total.ports.keys.sorted().map { key in
            let o = total.ports[key]!
            return RunSummary.Port(
                cluster: key / 2, port: key % 2 == 0 ? "injection" : "ejection", transfers: o.transfers,
                utilisation: end == 0 ? 0 : Double(o.busyCycles) / Double(end),
                meanQueueingCycles: o.transfers == 0 ? 0 : Double(o.queueingCycles) / Double(o.transfers),
                maxQueueingCycles: o.maxQueueingCycles)
        }
    }

    /// Host measurements for a run that took `wallSeconds` in `processes` processes; `stats` gives
    /// the clusters' decision times.
    public static func host(
        session: WaferSession, results: RunSummary.Results, wallSeconds: Double, processes: Int,
        stats: [ClusterStats] = []
    ) -> RunSummary.Host {
        let decisionNanos = session.coordinator.decisionNanos.adding(total(stats.lazy.map(\.decisionNanos)))
        let wall = max(wallSeconds, 1e-9)
        let sync = session.synchronizer
        let windows = Double(sync.windows)
        let windowSeconds = Double(session.host.windowNanos) / 1e9
        let overhead =
            session.host.clusterComputeNanos == 0 || session.host.windowNanos == 0
            ? 0 : max(0, 1 - Double(session.host.clusterComputeNanos) / Double(session.host.windowNanos))
        return RunSummary.Host(
            synchronisation: RunSummary.Synchronisation(
                method: sync.windows == 0 && session.host.sequentialNanos > 0
                    ? "global event order" : session.host.speculativeWindows > 0 ? "speculative windows" : "windows",
                windows: sync.windows, clusterWindows: session.activeClusterWindows, skippedCycles: sync.skippedCycles,
                rounds: session.host.rounds,
                speculativeWindows: session.host.speculativeWindows, reruns: session.host.reruns,
                abandonedWindows: session.host.abandonedWindows, heldMessages: session.host.heldMessages,
                mergedViews: session.host.mergedViews, avoidedReruns: session.host.avoidedReruns,
                messages: session.transport.windowMessages > 0 ? session.transport.windowMessages : nil),
            processes: processes, wallSeconds: wallSeconds,
            eventsPerSecond: Double(results.emulation.events) / wall,
            taskBlocksPerSecond: Double(total(results.clusterDetails.lazy.flatMap(\.tbus).map(\.tasks))) / wall,
            windowsPerSecond: windows / wall,
            meanWindowMicroseconds: windows > 0 ? windowSeconds / windows * 1e6 : 0,
            meanRoundMicroseconds: session.host.rounds > 0 ? windowSeconds / Double(session.host.rounds) * 1e6 : 0,
            virtualCyclesPerWallSecond: Double(results.endCycles) / wall,
            syncOverheadFraction: overhead,
            decisionSeconds: Double(decisionNanos) / 1e9,
            decisionMeanNanoseconds: results.scheduling.decisions == 0
                ? 0 : Double(decisionNanos) / Double(results.scheduling.decisions))
    }

    /// Contagious idleness over every TBU's idle-period starts (definition in docs/scheduling.md).
    static func contagion(_ stats: [ClusterStats], mesh: Mesh, window: Cycle, end: Cycle) -> RunSummary.Contagion {
        // Idle starts per cluster, in time order, with their TBUs.
        let starts = stats.sorted { $0.cluster < $1.cluster }.map { $0.idleStartsInOrder() }
        var total: UInt64 = 0
        var following: UInt64 = 0
        var expected = 0.0
        let span = Double(max(end, 1))
        for (cluster, events) in starts.enumerated() where cluster < mesh.count {
            let neighbourhood = [cluster] + mesh.neighbours(of: cluster)
            let others = neighbourhood.reduce(0) { $0 + starts[$1].times.count } - 1
            for (time, tbu) in zip(events.times, events.tbus) {
                total += 1
                // Poisson neighbourhood at its observed rate: P(at least one start in the window).
                expected += 1 - exp(-Double(max(others, 0)) / span * Double(window))
                let from = time >= window ? time - window + 1 : 0
                let hit = neighbourhood.contains { c in
                    let list = starts[c]
                    // Binary search for the first start at or after `from`, then scan the window.
                    var low = 0
                    var high = list.times.count
                    while low < high {
                        let mid = (low + high) / 2
                        if list.times[mid] < from { low = mid + 1 } else { high = mid }
                    }
                    var i = low
                    while i < list.times.count && list.times[i] <= time {
                        if !(c == cluster && list.tbus[i] == tbu) { return true }
                        i += 1
                    }
                    return false
                }
                if hit { following += 1 }
            }
        }
        let observed = total == 0 ? 0 : Double(following) / Double(total)
        let chance = total == 0 ? 0 : expected / Double(total)
        return RunSummary.Contagion(
            windowCycles: window, idlePeriods: total, observed: observed, expected: chance,
            index: chance > 0 ? observed / chance : 0)
    }

    /// Imbalance statistics from its change points (episodes: onset above 1.0, resolved at 0.5).
    static func imbalance(_ points: [(time: Cycle, value: Double)], end: Cycle, config: WaferConfig)
        -> RunSummary.Imbalance
    {
        let onset = 1.0
        let resolved = 0.5
        var weighted = 0.0
        for (index, point) in points.enumerated() where point.time < end {
            let next = index + 1 < points.count ? min(points[index + 1].time, end) : end
            weighted += point.value * Double(next - point.time)
        }
        let episodes = Episodes.imbalance(points, end: end, onset: onset, resolved: resolved)
        let inEpisode = episodes.reduce(Cycle(0)) { $0 + ($1.end - $1.start) }
        let durations = episodes.map { $0.end - $0.start }.sorted()
        let p95 =
            durations.isEmpty
            ? 0 : durations[min(durations.count - 1, Int((0.95 * Double(durations.count)).rounded(.up)) - 1)]
        return RunSummary.Imbalance(
            mean: end == 0 ? 0 : weighted / Double(end), onset: onset, resolved: resolved,
            episodes: UInt64(durations.count),
            meanResolutionUs: durations.isEmpty
                ? 0 : config.microseconds(durations.reduce(0, +)) / Double(durations.count),
            p95ResolutionUs: config.microseconds(p95), imbalancedFraction: fraction(inEpisode, end),
            timeline: stepMeans(points.map { ($0.time, $0.value) }, end: end))
    }

    /// Time-weighted means of a step function over twenty equal parts of [0, end).
    ///
    /// Part boundaries are whole cycles (`end * k / parts`), so every step advances and the loop
    /// cannot stall on floating-point rounding at a boundary.
    static func stepMeans(_ points: [(Cycle, Double)], end: Cycle, parts: Int = 20) -> [Double] {
        guard end > 0, parts > 0 else { return [] }
        let boundaries = (0...parts).map { Cycle((UInt128(end) * UInt128($0)) / UInt128(parts)) }
        var sums = [Double](repeating: 0, count: parts)
        var part = 0
        for (index, point) in points.enumerated() where point.0 < end {
            var from = point.0
            let to = index + 1 < points.count ? min(points[index + 1].0, end) : end
            while part + 1 < parts && boundaries[part + 1] <= from { part += 1 }
            while part > 0 && boundaries[part] > from { part -= 1 }
            while from < to {
                let partEnd = part == parts - 1 ? to : min(to, boundaries[part + 1])
                sums[part] += point.1 * Double(partEnd - from)
                from = partEnd
                if from == boundaries[part + 1] && part < parts - 1 { part += 1 }
            }
        }
        return (0..<parts).map { index in
            let width = Double(boundaries[index + 1] - boundaries[index])
            return width == 0 ? 0 : (sums[index] / width * 1000).rounded() / 1000
        }
    }

    /// Means of samples falling in each of twenty equal parts of [0, end) (0 where none fall).
    static func bucketMeans(_ samples: [(Cycle, Double)], end: Cycle, parts: Int = 20) -> [Double] {
        guard end > 0 else { return [] }
        var sums = [Double](repeating: 0, count: parts)
        var counts = [Double](repeating: 0, count: parts)
        for (time, value) in samples where time < end {
            let part = min(parts - 1, Int(Double(time) / Double(end) * Double(parts)))
            sums[part] += value
            counts[part] += 1
        }
        return zip(sums, counts).map { $1 == 0 ? 0 : ($0 / $1 * 1000).rounded() / 1000 }
    }

    static func requests(_ outcomes: [RequestOutcome], injected: UInt64, config: WaferConfig, deadline: Cycle? = nil)
        -> RunSummary.Requests
    {
        let completed = outcomes.filter { $0.status == .completed }
        let latencies = completed.map { $0.finished - $0.injected }.sorted()
        var latency: RunSummary.Latency?
        if !latencies.isEmpty {
            func rank(_ p: Double) -> Cycle {
                // Nearest rank: the smallest value with at least p% of observations at or below it.
                let index = Int((p / 100 * Double(latencies.count)).rounded(.up)) - 1
                return latencies[min(max(index, 0), latencies.count - 1)]
            }
            // Summed wide: a cluster reports each latency, up to a window's end.
            let mean = Double(latencies.reduce(UInt128(0)) { $0 + UInt128($1) }) / Double(latencies.count)
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
            makespanCycles: makespan, taskBlocks: total(completed.lazy.map { UInt64($0.tasksDone) }),
            deadlineMisses: deadline.map { limit in UInt64(latencies.lazy.filter { $0 > limit }.count) }, blockRuns: nil
        )
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

    /// Σ `values`, saturating: the clusters count these, and a broken cluster's counts must not
    /// trap the coordinator (an honest run's sums are far from 2^64).
    static func total<Values: Sequence<UInt64>>(_ values: Values) -> UInt64 {
        values.reduce(0) { $0.adding($1) }
    }

    /// `a × b`, saturating (a span of TBU-cycles: run end × TBUs).
    static func product(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (result, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : result
    }
}
