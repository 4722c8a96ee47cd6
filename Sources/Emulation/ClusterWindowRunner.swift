import WaferModel

/// Runs one cluster's side of the window protocol (``WindowRun``) on its engine, the same in one
/// process and in a cluster process: corrections of an earlier window, inputs, the snapshot a
/// speculative window may return to, in-window envelopes, the run, and the report.
public final class ClusterWindowRunner {
    public let engine: ClusterEngine
    /// The engine's state when the current speculative window first ran, and that window.
    private var snapshot: ClusterEngine.Snapshot?
    private var snapshotWindow: UInt64 = 0
    /// What the last speculative run of `snapshotWindow` reported, to check a correction against.
    private var lastReport: ClusterWindowReport?

    /// A request the runner cannot carry out, or a correction that changed what the window sent.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(engine: ClusterEngine) {
        self.engine = engine
    }

    /// Carries out `run` in window `plan` and reports (``ClusterWindowReport/computeNanos`` is
    /// left 0 for the host to measure).
    public func run(_ run: WindowRun, window plan: WindowPlan, speculative: Bool) throws -> ClusterWindowReport {
        try prepare(run, window: plan, speculative: speculative)
        let output = speculative ? engine.runSpeculativeWindow(end: plan.end) : engine.runWindow(end: plan.end)
        return report(run.cluster, output, speculative: speculative)
    }

    /// Everything of `run` before the window's events: the correction it owes, the return to its
    /// snapshot or its inputs (and a new snapshot when `speculative`), then its in-window envelopes.
    func prepare(_ run: WindowRun, window plan: WindowPlan, speculative: Bool) throws {
        if let correction = run.correction {
            guard !run.restore else { throw Failure(description: "a correction cannot come with a restore") }
            try correct(correction)
        }
        if run.restore {
            guard let snapshot, snapshotWindow == plan.index else {
                throw Failure(
                    description:
                        "cluster \(run.cluster) was asked to run window \(plan.index) again without having run it")
            }
            engine.restore(snapshot)
        } else {
            engine.receive(run.inputs)
            snapshot = speculative ? engine.snapshot() : nil
            snapshotWindow = plan.index
        }
        engine.receive(run.inWindow)
    }

    /// The report of a run that produced `output` (kept, when `speculative`, to check a later
    /// correction against).
    func report(
        _ cluster: Int, _ output: WindowOutput, speculative: Bool, livePeers: [Int] = []
    ) -> ClusterWindowReport {
        var report = ClusterWindowReport(
            cluster: cluster, nextEventTime: output.nextEventTime, earliestOutput: output.earliestOutput,
            envelopes: output.envelopes, trace: output.trace, events: output.events, computeNanos: 0,
            absorbs: engine.absorbs, lateAbsorption: engine.lateAbsorption)
        report.livePeers = livePeers
        lastReport = speculative ? report : nil
        return report
    }

    /// Runs `correction`'s window again from its snapshot with the committed in-window envelopes.
    /// What it sends, records and reports must equal the committed run's (only views and signals
    /// absorbed late changed); anything else is a broken ``BalancingPolicy/reads(on:queueCount:)``
    /// contract, reported rather than carried into the results.
    private func correct(_ correction: WindowCorrection) throws {
        guard let snapshot, snapshotWindow == correction.window, let committed = lastReport else {
            throw Failure(
                description:
                    "cluster \(engine.id) was asked to correct window \(correction.window) without having run it")
        }
        engine.restore(snapshot)
        engine.receive(correction.inWindow)
        let output = engine.runSpeculativeWindow(end: correction.end)
        guard
            output.envelopes == committed.envelopes && output.trace == committed.trace
                && output.nextEventTime == committed.nextEventTime && output.earliestOutput == committed.earliestOutput
                && engine.absorbs == committed.absorbs
        else {
            throw Failure(
                description:
                    "cluster \(engine.id): correcting window \(correction.window) changed what it sent or recorded — a balancing policy read state it declared it does not read (BalancingPolicy.reads); the run cannot be exact"
            )
        }
        self.snapshot = nil
        lastReport = nil
    }
}
