import Foundation
import Scheduling
import WaferModel

/// Receives the trace records of each window in the canonical order of ``TraceOrder``, so the
/// rendered trace is identical however the clusters are hosted and the run is cut into windows.
public protocol TraceSink: AnyObject {
    /// One window's records, one list per participant in participant order (coordinator, then
    /// clusters by id), each in the order its participant made them. The sink orders them with
    /// ``TraceOrder/merge(_:)``; it may do so, and write them, after returning.
    func append(window lists: [[TimedTraceRecord]]) throws
}

/// Runs the wafer window by window: plans each window with the ``WindowSynchronizer``, runs the
/// coordinator engine and (through the transport) every cluster, and routes what they send.
/// The same loop drives the in-process oracle and the multi-process wafer.
public final class WaferSession {
    public let coordinator: CoordinatorEngine
    public let transport: ClusterTransport
    public private(set) var synchronizer: WindowSynchronizer
    public var traceSink: TraceSink?
    /// In process and in exact mode, run in one global event order rather than window by window
    /// (the same results and trace; set false to exercise the windows in one process).
    public var usesGlobalEventOrder = true

    var clusterTiming: [ParticipantTiming]
    var coordinatorTiming = ParticipantTiming()
    var toClusters: [[Envelope]]
    /// Virtual time reached by runs in global event order (see ``runUntilIdle(shouldStop:)``).
    var sequentialNow: Cycle = 0
    /// Σ over windows of the clusters taking part (deterministic; windows × clusters at most).
    public private(set) var activeClusterWindows: UInt64 = 0
    /// Host measurements, kept apart from the deterministic results.
    public internal(set) var host = HostMeasurements()

    public init(coordinator: CoordinatorEngine, transport: ClusterTransport) {
        self.coordinator = coordinator
        self.transport = transport
        synchronizer = WindowSynchronizer(config: coordinator.config)
        let count = coordinator.config.clusterCount
        clusterTiming = Array(repeating: ParticipantTiming(), count: count)
        toClusters = Array(repeating: [], count: count)
    }

    /// Builds an all-in-one-process session (the oracle).
    public static func inProcess(
        config: WaferConfig, library: WorkflowLibrary, scheduler: Scheduler = .octopus,
        functional: (any FunctionalExecutor)? = nil
    ) -> WaferSession {
        let clusters = (0..<config.clusterCount).map {
            ClusterEngine(id: $0, config: config, library: library, scheduler: scheduler, functional: functional)
        }
        let coordinator = CoordinatorEngine(
            config: config, library: library, scheduler: scheduler, functional: functional)
        return WaferSession(coordinator: coordinator, transport: InProcessTransport(clusters: clusters))
    }

    /// Virtual time every participant has reached.
    public var now: Cycle { max(synchronizer.now, sequentialNow) }

    /// The end of the accounted period: the last request's finish (all work lies before it), or
    /// ``now`` when nothing has finished. Statistics and the summary both use it.
    public var accountingEnd: Cycle {
        coordinator.records.lazy.map(\.outcome.finished).max() ?? now
    }

    /// Accepts an injection; its `start` must not lie before ``now``.
    @discardableResult
    public func inject(_ injection: Injection) throws -> ClosedRange<UInt64> {
        try coordinator.inject(injection, earliest: now)
    }

    /// True when nothing is pending anywhere: no events, no messages in flight.
    public var isIdle: Bool { planInputs().allSatisfy { $0.nextEvent == .never && $0.earliestInbound == .never } }

    private func planInputs() -> [ParticipantTiming] {
        var coordinatorNow = coordinatorTiming
        coordinatorNow.nextEvent = coordinatorNextEvent
        coordinatorNow.earliestOutput = min(coordinatorNow.earliestOutput, coordinatorNextEvent)
        return [coordinatorNow] + clusterTiming
    }

    // The coordinator's own queue can change between windows (injections), so read it afresh.
    private var coordinatorNextEvent: Cycle { coordinator.nextEventTime }

    /// Runs one window. Returns false when the wafer is idle (nothing was run).
    @discardableResult
    public func step() throws -> Bool {
        guard let plan = synchronizer.plan(planInputs()) else { return false }
        let wallStart = DispatchTime.now().uptimeNanoseconds

        // Only clusters with an event or a delivery before the window's end take part; the others'
        // state cannot change in it. Active clusters receive everything pending for them.
        let active = clusterTiming.indices.filter {
            clusterTiming[$0].nextEvent < plan.end || clusterTiming[$0].earliestInbound < plan.end
        }
        var outgoing = Array(repeating: [Envelope](), count: toClusters.count)
        for index in active {
            outgoing[index] = toClusters[index]
            toClusters[index].removeAll()
            clusterTiming[index].earliestInbound = .never
        }
        activeClusterWindows += UInt64(active.count)

        let coordinatorOutput = coordinator.runWindow(end: plan.end)
        let reports = try transport.runWindow(plan, active: active, fromCoordinator: outgoing)

        var coordinatorInbound = Cycle.never
        var toCoordinator: [Envelope] = []
        for (cluster, envelopes) in RoutedEnvelopes(coordinatorOutput.envelopes).toClusters {
            toClusters[cluster] += envelopes
            for envelope in envelopes {
                clusterTiming[cluster].earliestInbound = min(clusterTiming[cluster].earliestInbound, envelope.arrival)
            }
        }
        var maxCompute: UInt64 = 0
        for report in reports {
            clusterTiming[report.cluster].nextEvent = report.nextEventTime
            clusterTiming[report.cluster].earliestOutput = report.earliestOutput
            for traffic in report.peerTraffic {
                clusterTiming[traffic.destination].earliestInbound = min(
                    clusterTiming[traffic.destination].earliestInbound, traffic.earliestArrival)
            }
            for envelope in report.toCoordinator { coordinatorInbound = min(coordinatorInbound, envelope.arrival) }
            toCoordinator += report.toCoordinator
            maxCompute = max(maxCompute, report.computeNanos)
        }
        coordinator.receive(toCoordinator)
        coordinatorTiming = ParticipantTiming(
            nextEvent: coordinatorOutput.nextEventTime,
            earliestOutput: coordinatorOutput.earliestOutput,
            earliestInbound: coordinatorInbound)
        if let sink = traceSink {
            try sink.append(window: [coordinatorOutput.trace] + reports.map(\.trace))
        }
        let wall = DispatchTime.now().uptimeNanoseconds - wallStart
        host.windowNanos += wall
        host.clusterComputeNanos += maxCompute
        return true
    }

    /// Runs until the wafer is idle, or `shouldStop` says so (it is asked every few thousand
    /// events). In one process and exact mode the participants run in one global event order,
    /// without windows (``runSequentially(shouldStop:)``: the same results and trace, faster);
    /// otherwise window by window.
    public func runUntilIdle(shouldStop: () -> Bool = { false }) throws {
        if runsSequentially {
            try runSequentially(shouldStop: shouldStop)
        } else {
            while !shouldStop(), try step() {}
        }
    }
}

/// Wall-clock measurements of a session (they vary from run to run by nature).
public struct HostMeasurements: Sendable {
    /// Σ wall time of window rounds.
    public var windowNanos: UInt64 = 0
    /// Σ over windows of the slowest cluster's compute time (0 in process: there it is not split out).
    public var clusterComputeNanos: UInt64 = 0
    /// Wall time spent running in global event order (in process, exact mode).
    public var sequentialNanos: UInt64 = 0
}
