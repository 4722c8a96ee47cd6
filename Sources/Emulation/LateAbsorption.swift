import Scheduling
import WaferModel

/// From when on, in a cluster's last run of a window, a view or a balancing signal could have
/// arrived without changing anything the run sent or recorded: a speculative window need not run
/// such a cluster again when only messages like that changed, provided its state is corrected
/// before it runs on (``WindowCorrection``).
///
/// A view or a quiet balancing signal only records something (the cluster's copy of the view;
/// what the balancing policy keeps of its peers' signals) when it arrives in a state that absorbs
/// it: the view's balancing trigger does not react, the policy is quiet on the signal. The run's
/// sends and trace records then depend on it only through later reads of what it recorded — a
/// placement (which reads the view) or a balancing decision (``BalancingPolicy/reads(on:queueCount:)``).
/// So if every message that changed arrived at or after the time given here for its kind, the run
/// with the right messages sends and records exactly what the run with the wrong ones did, and
/// only the recorded state differs.
public struct LateAbsorption: Equatable, Sendable {
    /// Views arriving at or after this time would have changed nothing the run sent or recorded.
    public var views: Cycle
    /// Balancing signals arriving at or after this time would have changed nothing either.
    public var balanceSignals: Cycle

    public init(views: Cycle, balanceSignals: Cycle) {
        self.views = views
        self.balanceSignals = balanceSignals
    }

    /// Nothing is known to be absorbed: every change needs a run.
    public static let none = LateAbsorption(views: .never, balanceSignals: .never)

    /// True when a run that received `ranWith` (in-window envelopes) sent and recorded exactly
    /// what it would have with `inWindow` instead: every envelope in one list but not the other is
    /// a view or a balancing signal arriving no earlier than its kind's time. Envelopes are
    /// compared whole (a message re-sent with different content is a change); each carries a
    /// unique (source, sequence).
    public func covers(changesFrom ranWith: [Envelope], to inWindow: [Envelope]) -> Bool {
        func absorbed(_ envelope: Envelope) -> Bool {
            switch envelope.message {
            case .view: return envelope.arrival >= views
            case .balance: return envelope.arrival >= balanceSignals
            default: return false
            }
        }
        // The lists are short (a window's in-window messages for one cluster); a linear search
        // per element keeps this allocation-free.
        for envelope in ranWith where !inWindow.contains(envelope) {
            guard absorbed(envelope) else { return false }
        }
        for envelope in inWindow where !ranWith.contains(envelope) {
            guard absorbed(envelope) else { return false }
        }
        return true
    }
}

/// Tracks, during one run, the latest time at which a changed view or balancing signal could have
/// mattered: when the state would not have absorbed one arriving then, or when what they record
/// was read. Pure bookkeeping; the engine tells it what happens.
struct LateAbsorptionTracker {
    /// Latest time a view could have mattered (nil: never in this run).
    private var viewsMatteredAt: Cycle?
    private var signalsMatteredAt: Cycle?

    /// `parts` were read (or a message of theirs would not have been absorbed) at `time`.
    mutating func matter(_ parts: RecordedState, at time: Cycle) {
        if parts.contains(.view) { viewsMatteredAt = max(viewsMatteredAt ?? 0, time) }
        if parts.contains(.peerSignals) { signalsMatteredAt = max(signalsMatteredAt ?? 0, time) }
    }

    /// The run's result: strictly after the last time each could have mattered. A message at
    /// that very time may be handled before or after what happened then, so it counts as mattering.
    var absorption: LateAbsorption {
        LateAbsorption(
            views: viewsMatteredAt.map { $0.adding(1) } ?? 0,
            balanceSignals: signalsMatteredAt.map { $0.adding(1) } ?? 0)
    }

    mutating func reset() {
        viewsMatteredAt = nil
        signalsMatteredAt = nil
    }
}
