import WaferModel

/// Everything a run reports. `results` depends only on configuration, workload and seed, so it is
/// identical for the in-process oracle and the multi-process wafer; `host` holds wall-clock
/// measurements, which vary by nature.
public struct RunSummary: Codable, Equatable, Sendable {
    public var results: Results
    public var host: Host?
    /// False when the run stopped before its work was done (a lost cluster, a signal, an error);
    /// `results` then covers only what the coordinator had recorded. True in the summary of a
    /// finished run; absent where no run was written (e.g. `octopus compare`'s cells).
    public var complete: Bool?
    /// Why an incomplete run stopped.
    public var stoppedBecause: String?
    /// Virtual time an incomplete run had reached.
    public var virtualTimeCycles: Cycle?

    public init(results: Results, host: Host?) {
        self.results = results
        self.host = host
    }

    /// Latency statistics over completed requests (nearest-rank percentiles, exact).
    public struct Latency: Codable, Equatable, Sendable {
        public var p50Cycles: Cycle
        public var p95Cycles: Cycle
        public var p99Cycles: Cycle
        public var maxCycles: Cycle
        public var meanCycles: Double
        public var p50Us: Double
        public var p95Us: Double
        public var p99Us: Double
        public var maxUs: Double
    }

    /// Request accounting for one workflow (or all).
    public struct Requests: Codable, Equatable, Sendable {
        public var injected: UInt64
        public var completed: UInt64
        public var rejected: UInt64
        public var latency: Latency?
        /// Completed requests per second of virtual time over the makespan.
        public var throughputPerSecond: Double
        /// From the first arrival to the last completion.
        public var makespanCycles: Cycle
        /// Task blocks executed by completed requests.
        public var taskBlocks: UInt64
        /// Completed requests whose latency exceeded the workflow's deadline (nil: no deadline).
        public var deadlineMisses: UInt64?
        /// Runs of each block of the workflow (task and control), by block name.
        public var blockRuns: [String: UInt64]?
    }

    /// Where TBU time went, as fractions of all TBU-cycles up to the end of the run.
    public struct TimeBreakdown: Codable, Equatable, Sendable {
        public var busy: Double
        public var reconfiguring: Double
        public var starved: Double
        public var blocked: Double
        public var unassigned: Double
    }

    public struct TBU: Codable, Equatable, Sendable {
        public var tbu: Int
        public var tasks: UInt64
        public var utilisation: Double
        public var reconfigurations: UInt64
        public var time: TimeBreakdown
    }

    public struct Cluster: Codable, Equatable, Sendable {
        public var cluster: Int
        public var utilisation: Double
        public var controlBlocks: UInt64
        public var rejected: UInt64
        public var tbus: [TBU]
    }

    public struct Messages: Codable, Equatable, Sendable {
        public var total: UInt64
        public var byKind: [String: UInt64]
        public var byteHops: UInt64
        public var localFlows: UInt64
    }

    public struct Emulation: Codable, Equatable, Sendable {
        public var syncMode: String
        public var lookaheadCycles: Cycle
        public var events: UInt64
        public var quantumDelayedMessages: UInt64
        public var quantumDelayCycles: Cycle
        public var causalityViolations: UInt64
    }

    /// Contagious PE-array idleness (see docs/scheduling.md): how often an idle period starts
    /// within `windowCycles` after another TBU's in the same or a neighbouring cluster, against
    /// what independent idle periods at the same rates would give.
    public struct Contagion: Codable, Equatable, Sendable {
        public var windowCycles: Cycle
        public var idlePeriods: UInt64
        /// Fraction of idle periods that followed a neighbour's within the window.
        public var observed: Double
        /// The fraction expected by chance (Poisson neighbourhoods at the observed rates).
        public var expected: Double
        /// observed / expected: above 1, idleness spreads beyond chance.
        public var index: Double
    }

    /// Load imbalance across clusters over time (coefficient of variation of pending cycles).
    public struct Imbalance: Codable, Equatable, Sendable {
        /// Time-weighted mean over the run.
        public var mean: Double
        /// An episode starts when the imbalance exceeds `onset` and ends when it falls to `resolved`.
        public var onset: Double
        public var resolved: Double
        public var episodes: UInt64
        /// Time from onset to resolution.
        public var meanResolutionUs: Double
        public var p95ResolutionUs: Double
        /// Share of the run spent in an episode.
        public var imbalancedFraction: Double
        /// Time-weighted mean in each twentieth of the run.
        public var timeline: [Double]
    }

    /// What the scheduler did.
    public struct Scheduling: Codable, Equatable, Sendable {
        public var decisions: UInt64
        public var reconfigurations: UInt64
        /// Reconfigurations the proactive planner made ahead of demand.
        public var proactiveReconfigurations: UInt64
        /// Blocks split across several PE arrays.
        public var splits: UInt64
        /// Control blocks that ran on PE arrays (queued with task blocks).
        public var controlBlocksOnArrays: UInt64
        /// Queued blocks moved between clusters by rebalancing, and their bytes × hops.
        public var migrations: UInt64
        public var migrationByteHops: UInt64
        /// Plans published by the coordinator (mappings, classifications, re-partitions).
        public var planChanges: UInt64
        /// Mean weighted absolute percentage error of the proactive demand predictions (nil
        /// without predictions), and its mean in each twentieth of the run.
        public var predictionError: Double?
        public var predictionErrorTimeline: [Double]?
        /// With `cluster.overlap_fill`: blocks whose first fill was loaded during the previous
        /// block on their TBU, and the cycles that saved (absent when the option is off).
        public var fillOverlapBlocks: UInt64?
        public var fillOverlapCycles: UInt64?
    }

    public struct Results: Codable, Equatable, Sendable {
        public var wafer: String
        public var clusters: Int
        public var tbusPerCluster: Int
        public var clockMhz: Int
        public var seed: UInt64
        /// The scheduler, as `--scheduler` names it.
        public var scheduler: String
        /// "timing" (decisions drawn from distributions) or "functional" (real tensors).
        public var mode: String
        /// Virtual time of the last completion (the end of the accounted period).
        public var endCycles: Cycle
        public var overall: Requests
        public var workflows: [String: Requests]
        public var utilisation: Double
        public var time: TimeBreakdown
        public var clusterDetails: [Cluster]
        /// Items started by for-each and parallel blocks, and exits taken, over the whole wafer.
        public var fanoutItems: UInt64
        public var earlyExits: UInt64
        public var messages: Messages
        public var contagion: Contagion
        public var imbalance: Imbalance
        public var scheduling: Scheduling
        public var emulation: Emulation
        /// Traffic offered to each mesh link that carried any (task flows, migrations and blocks
        /// routed by a central queue, along their routes), ordered by link; under the contention
        /// link model also how busy each was and how long transfers waited for it. Absent in
        /// summaries written before links were counted.
        public var links: [Link]?
        /// `contention` when links and ports were contended resources (absent: the delay model).
        public var linkModel: String?
        /// Each cluster's injection and ejection port that carried a transfer (contention model
        /// only), ordered by cluster, injection first.
        public var ports: [Port]?
        /// The wafer's defective clusters, TBUs and links (absent on a wafer without defects).
        /// Utilisation and the time breakdown count working TBUs only.
        public var defects: WaferDefects?
        /// The admission control in front of the wafer (absent: the queues reject).
        public var admission: Admission?
    }

    /// `admission: {policy: in_flight}`: requests refused at the coordinator, before any
    /// scheduler saw them (they are counted in `rejected` too).
    public struct Admission: Codable, Equatable, Sendable {
        public var policy: String
        public var maxInFlight: Int
        public var rejected: UInt64
    }

    /// One directed mesh link's traffic over the run.
    public struct Link: Codable, Equatable, Sendable {
        /// The clusters it joins, in the direction of travel.
        public var from: Int
        public var to: Int
        /// Whether it crosses a die boundary (`inter_die` link parameters).
        public var interDie: Bool
        public var bytes: UInt64
        public var transfers: UInt64
        /// bytes / (bandwidth × end cycles): the share of the link's capacity the traffic would
        /// fill.
        public var load: Double
        /// Contention model only: the share of the run the link carried a transfer, and the
        /// cycles transfers waited for it (mean over its transfers, longest).
        public var utilisation: Double?
        public var meanQueueingCycles: Double?
        public var maxQueueingCycles: UInt64?

        public init(
            from: Int, to: Int, interDie: Bool, bytes: UInt64, transfers: UInt64, load: Double,
            occupancy: LinkOccupancy? = nil, end: Cycle = 0
        ) {
            self.from = from
            self.to = to
            self.interDie = interDie
            self.bytes = bytes
            self.transfers = transfers
            self.load = load
            if let occupancy {
                utilisation = end == 0 ? 0 : Double(occupancy.busyCycles) / Double(end)
                meanQueueingCycles =
                    occupancy.transfers == 0 ? 0 : Double(occupancy.queueingCycles) / Double(occupancy.transfers)
                maxQueueingCycles = occupancy.maxQueueingCycles
            }
        }
    }

    /// One cluster's injection or ejection port under the contention link model.
    public struct Port: Codable, Equatable, Sendable {
        public var cluster: Int
        /// `injection` (cluster → its router) or `ejection` (router → cluster).
        public var port: String
        public var transfers: UInt64
        /// The share of the run it carried a transfer.
        public var utilisation: Double
        /// Cycles transfers waited for it: mean over its transfers, longest.
        public var meanQueueingCycles: Double
        public var maxQueueingCycles: UInt64
    }

    /// How the run was synchronised. In exact mode none of it touches `results` (the same results
    /// and trace come out of any windowing); the counts are fixed for a given host and method,
    /// unlike the wall-clock figures beside them.
    public struct Synchronisation: Codable, Equatable, Sendable {
        /// `global event order` (in process, exact mode: no windows), `speculative windows` or
        /// `windows` (conservative or quantum).
        public var method: String
        /// Windows run (committed).
        public var windows: UInt64
        /// Σ over windows of the clusters that took part (idle clusters sit windows out).
        public var clusterWindows: UInt64
        /// Virtual cycles skipped between windows (nothing pending anywhere).
        public var skippedCycles: Cycle
        /// Rounds: a grant and a report for each cluster taking part (a conservative window is one
        /// round; a speculative one a round per run of its participants).
        public var rounds: UInt64
        /// Windows run speculatively, cluster runs repeated from a snapshot, and speculative
        /// windows abandoned for conservative ones.
        public var speculativeWindows: UInt64
        public var reruns: UInt64
        public var abandonedWindows: UInt64
        /// Views and balancing signals held for idle clusters that absorb them (they would only
        /// update their state) rather than making them take part in a window; absent in
        /// summaries older than it.
        public var heldMessages: UInt64?
        /// Held view updates merged into a later one before being handed over (one update
        /// fewer to send and decode each; ``HeldViewMerging``); absent in summaries older than it.
        public var mergedViews: UInt64?
        /// Re-runs a speculative window did without because only views or balancing signals the
        /// cluster would have absorbed late had changed (``LateAbsorption``: the cluster's state was
        /// corrected before it ran on); absent in summaries older than it.
        public var avoidedReruns: UInt64?
        /// Messages the coordinator exchanged with cluster processes for windows — grants sent
        /// and reports received, one each way per process per round — whose cost bounds the
        /// multi-process wafer (`octopus transport-cost`); absent in one process and in
        /// summaries older than it.
        public var messages: UInt64?
    }

    /// An octopus build: what `octopus --version` prints.
    public struct Build: Codable, Equatable, Sendable {
        /// The executable's GNU build ID in hex (`readelf -n` prints it), nil when it has none.
        public var id: String?
        /// `release` or `debug`.
        public var configuration: String
        /// The window protocol between coordinator and clusters.
        public var wireProtocol: Int

        public init(id: String?, configuration: String, wireProtocol: Int) {
            self.id = id
            self.configuration = configuration
            self.wireProtocol = wireProtocol
        }
    }

    /// Clusters whose processes ran one build (`build`: its ID, nil when unknown).
    public struct ClusterBuild: Codable, Equatable, Sendable {
        public var build: String?
        public var clusters: [Int]

        public init(build: String?, clusters: [Int]) {
            self.build = build
            self.clusters = clusters
        }
    }

    /// Wall-clock cost of the emulation itself.
    public struct Host: Codable, Equatable, Sendable {
        public var synchronisation: Synchronisation
        public var processes: Int
        /// Seconds from the coordinator's start until every cluster was ready to run: registered,
        /// its setup (configuration and workflow library) decoded and its engine built (0 in
        /// process). The run's wall time starts then.
        public var setupSeconds: Double = 0
        /// Of `setupSeconds`, the part until every cluster had registered (absent in process and
        /// in summaries older than it).
        public var registrationSeconds: Double?
        /// With `--pace`: the virtual µs per wall µs asked for, and the ratio reached (lower when
        /// the model could not keep up).
        public var pace: Double?
        public var paceReached: Double?
        /// The host each cluster ran on, by cluster id (absent in process).
        public var placement: [String]?
        /// The CPUs `octopus run` pinned its processes to (absent when it did not pin them: in
        /// process; with more cluster processes than CPUs unless `--pin-cpus`; with
        /// `--no-pin-cpus` or `--hosts`; from `octopus coordinator`; with a single allowed CPU —
        /// and in summaries older than it).
        public var cpus: CPUs?
        /// The command that made the run, its executable first (absent for runs not started from
        /// the command line, and in summaries older than it): with the run's `wafer.json`, what
        /// it takes to run it again.
        public var commandLine: [String]?
        /// The octopus build that ran the coordinator (absent in summaries older than it).
        public var build: Build?
        /// Cluster processes that ran another build than the coordinator, by build (absent when
        /// every cluster ran the coordinator's, and in summaries older than it).
        public var clusterBuilds: [ClusterBuild]?
        /// The files the run's process read its wafer, workflows, tables and workload from, with
        /// their digests (absent for runs not started from the command line, and in summaries
        /// older than it; a coordinator lists the files it read, not those `octopus ctl`
        /// read on its side).
        public var inputs: [InputFile]?
        public var wallSeconds: Double
        public var eventsPerSecond: Double
        public var taskBlocksPerSecond: Double
        public var windowsPerSecond: Double
        public var meanWindowMicroseconds: Double
        /// Wall time per round (0 without windows).
        public var meanRoundMicroseconds: Double
        public var virtualCyclesPerWallSecond: Double
        /// Share of window wall time not spent computing in the slowest cluster (messages and
        /// waiting); 0 when measured in one process.
        public var syncOverheadFraction: Double
        /// Wall time of scheduling decisions (all participants) and per decision.
        public var decisionSeconds: Double
        public var decisionMeanNanoseconds: Double

        /// Where the processes of a pinned wafer ran.
        public struct CPUs: Codable, Equatable, Sendable {
            /// The coordinator's CPU.
            public var coordinator: Int
            /// The CPU of each cluster's process, by cluster id.
            public var clusters: [Int]

            public init(coordinator: Int, clusters: [Int]) {
                self.coordinator = coordinator
                self.clusters = clusters
            }
        }
    }
}
