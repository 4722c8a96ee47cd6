import Foundation

/// A wait in seconds as messages should print it: whole seconds as they are (`30 s`), a fraction
/// to the millisecond (`0.2 s`, `1.25 s`), anything shorter with its first significant digits
/// (`0.0004 s`) — so a timeout of 0.2 s is never reported as "within 0 s".
public enum WaitText {
    /// `seconds` followed by " s".
    public static func describe(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "\(seconds) s" }
        if seconds == seconds.rounded(), abs(seconds) < 1e15 { return "\(Int(seconds)) s" }
        var text = String(format: "%.3f", seconds)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        if text == "0" || text == "-0" { text = String(format: "%.2g", seconds) }
        return text + " s"
    }
}
