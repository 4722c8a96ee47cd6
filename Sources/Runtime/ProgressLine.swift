import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A one-line progress report redrawn in place on a terminal (stderr), at most twice a second:
/// how far the run has got and an estimate of the time left. Silent when stderr is not a terminal
/// or the user asked for quiet, so logs and pipes never see it.
public final class ProgressLine {
    /// False: every call does nothing.
    public let enabled: Bool
    private let output: (String) -> Void
    private let started = ProcessInfo.processInfo.systemUptime
    private var lastDraw = -Double.infinity
    private var drawnWidth = 0

    public init(enabled: Bool, output: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.enabled = enabled
        self.output = output
    }

    /// A progress line on stderr if it is a terminal and not `quiet`.
    public static func onStandardError(quiet: Bool) -> ProgressLine {
        ProgressLine(enabled: !quiet && isatty(STDERR_FILENO) == 1)
    }

    /// Seconds since the line was made.
    public var elapsed: Double { ProcessInfo.processInfo.systemUptime - started }

    /// The estimated seconds left when `done` of `total` units took `elapsed` seconds (nil before
    /// the first unit).
    public static func remaining(done: Double, total: Double, elapsed: Double) -> Double? {
        guard done > 0, total >= done else { return nil }
        return elapsed / done * (total - done)
    }

    /// Redraws the line with `text` (throttled to twice a second unless `force`).
    public func draw(_ text: String, force: Bool = false) {
        guard enabled else { return }
        let now = ProcessInfo.processInfo.systemUptime
        guard force || now - lastDraw >= 0.5 else { return }
        lastDraw = now
        let padding = max(0, drawnWidth - text.count)
        output("\r" + text + String(repeating: " ", count: padding))
        drawnWidth = text.count
    }

    /// Progress of a wafer run: virtual time, requests finished of those accepted, windows per
    /// second and the time left at the current rate of finishing requests.
    public func run(virtualMicroseconds: Double, finished: Int, accepted: UInt64, windows: UInt64) {
        guard enabled else { return }
        let seconds = elapsed
        let eta = Self.remaining(done: Double(finished), total: Double(accepted), elapsed: seconds)
        var text = String(format: "virtual %.3f ms · requests %d/%d", virtualMicroseconds / 1000, finished, accepted)
        if windows > 0 { text += String(format: " · %.0f windows/s", Double(windows) / max(seconds, 1e-3)) }
        text += eta.map { String(format: " · ETA %.0f s", $0) } ?? ""
        draw(text)
    }

    /// Clears the line (before the summary is printed).
    public func finish() {
        guard enabled, drawnWidth > 0 else { return }
        output("\r" + String(repeating: " ", count: drawnWidth) + "\r")
        drawnWidth = 0
    }
}
