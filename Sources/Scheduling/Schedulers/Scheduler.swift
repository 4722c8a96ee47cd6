import WaferModel

/// A complete scheduler of the wafer: where control blocks run, how ready blocks find a cluster,
/// how a cluster hands its queue to its TBUs, how queued work moves between clusters, and how the
/// coordinator partitions the TBUs among block types. Octopus, its ablation steps and the
/// baselines are all compositions of these policies, built by name from a ``SchedulerRegistry``
/// — so the coordinator and every cluster process rebuild the same scheduler from its text form
/// (``description``).
///
/// The policies are values: every cluster engine copies ``dispatch`` and ``balancing`` and keeps
/// its own state in them; the coordinator copies ``planning``.
public struct Scheduler: Sendable, CustomStringConvertible {
    /// Where control blocks run.
    public enum ControlPlane: String, Sendable {
        /// On the cluster's CBUs over the decoupled control plane; they never queue behind task blocks.
        case cbu
        /// On the PE arrays, queued with task blocks (traditional spatial architectures).
        case tbu
    }

    /// The registered name.
    public var name: String
    /// Parameter values in the text form (every parameter of a scheduler that has any), in the
    /// order the registry declares them.
    public var parameters: [(name: String, value: String)]
    public var controlPlane: ControlPlane
    public var routing: ReadyBlockRouting
    public var dispatch: any TBUDispatchPolicy
    public var balancing: any BalancingPolicy
    public var planning: any PlanningPolicy
    /// Work-conserving reservations: a free TBU that the plan reserves for some types, none of
    /// which is queued in its cluster, is lent to any queued block (it is the plan's again as soon
    /// as one of its types waits). Off for the built-in schedulers unless asked for
    /// (`octopus:lend=1`).
    public var lendsIdleReservations = false

    public init(
        name: String, parameters: [(name: String, value: String)] = [], controlPlane: ControlPlane,
        routing: ReadyBlockRouting,
        dispatch: any TBUDispatchPolicy, balancing: any BalancingPolicy = NoBalancing(),
        planning: any PlanningPolicy = NoPlanning()
    ) {
        self.name = name
        self.parameters = parameters
        self.controlPlane = controlPlane
        self.routing = routing
        self.dispatch = dispatch
        self.balancing = balancing
        self.planning = planning
    }

    /// The text form, which ``SchedulerRegistry/scheduler(_:)`` reads back: `name` or
    /// `name:key=value,…`.
    public var description: String {
        parameters.isEmpty ? name : "\(name):" + parameters.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    }

    /// The central queue's policy, when ready blocks wait in the coordinator.
    public var centralQueue: (any CentralQueuePolicy)? {
        if case .centralQueue(let policy) = routing { return policy }
        return nil
    }

    /// The placement policy, when ready blocks are placed on clusters directly.
    public var placement: (any PlacementPolicy)? {
        if case .placement(let policy) = routing { return policy }
        return nil
    }
}

extension Scheduler {
    /// A scheduler of the standard registry by its text form; traps on a name that is not there
    /// (for code and tests that name one of the built-in schedulers).
    public static func standard(_ text: String) -> Scheduler {
        do { return try SchedulerRegistry.standard.scheduler(text) } catch { preconditionFailure("\(error)") }
    }

    /// The full Octopus scheduler.
    public static var octopus: Scheduler { standard("octopus") }
}
