import Foundation
import WaferModel

/// Ties virtual time to wall time for live demos and interactive injection: with ratio r, r
/// virtual microseconds pass per wall microsecond while the wafer has work. The run never gets
/// ahead of that schedule (by more than one window across processes); when it falls behind (the
/// model is slower than r) it runs flat out. An idle wafer pauses the schedule, and the next work
/// starts a new stretch from that moment, so an injection after a pause is paced too.
public struct Pacer: Sendable {
    /// Virtual µs per wall µs.
    public let ratio: Double
    public let clockMHz: Int
    /// The start of the current stretch of work (nil while paused).
    private var origin: (wall: Double, cycle: Cycle)?
    /// Virtual cycles and wall seconds of the stretches already ended.
    private var pastCycles: Cycle = 0
    private var pastWall = 0.0

    public init(ratio: Double, clockMHz: Int) {
        precondition(ratio > 0 && ratio.isFinite, "a pace is a positive ratio")
        self.ratio = ratio
        self.clockMHz = clockMHz
    }

    /// Starts a stretch at virtual time `cycle`, now (nothing when one is running).
    public mutating func resume(at cycle: Cycle, wall: Double = ProcessInfo.processInfo.systemUptime) {
        if origin == nil { origin = (wall, cycle) }
    }

    /// Ends the current stretch at virtual time `cycle` (the wafer is idle).
    public mutating func pause(at cycle: Cycle, wall: Double = ProcessInfo.processInfo.systemUptime) {
        guard let origin else { return }
        pastCycles += cycle >= origin.cycle ? cycle - origin.cycle : 0
        pastWall += max(0, wall - origin.wall)
        self.origin = nil
    }

    /// Seconds to wait before virtual time `cycle` may be reached (0 when it is due or late, or
    /// while paused).
    public func wait(before cycle: Cycle, wall: Double = ProcessInfo.processInfo.systemUptime) -> Double {
        guard let origin, cycle > origin.cycle, cycle != .never else { return 0 }
        let virtualSeconds = Double(cycle - origin.cycle) / Double(clockMHz) / 1_000_000
        return max(0, origin.wall + virtualSeconds / ratio - wall)
    }

    /// Virtual seconds per wall second reached over the stretches of work so far, the current one
    /// up to `cycle` at `wall` included (idle pauses excluded).
    public func reached(at cycle: Cycle, wall: Double = ProcessInfo.processInfo.systemUptime) -> Double? {
        var cycles = pastCycles
        var seconds = pastWall
        if let origin, cycle >= origin.cycle {
            cycles += cycle - origin.cycle
            seconds += max(0, wall - origin.wall)
        }
        guard seconds > 0 else { return nil }
        return Double(cycles) / Double(clockMHz) / 1_000_000 / seconds
    }
}
