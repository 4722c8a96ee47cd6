import Foundation

/// Chart.js, inlined into every report so it opens offline. Taken from Debian's `libjs-chart.js`
/// (MIT/Expat licence), which `scripts/ensure-deps` installs.
public enum ChartLibrary {
    /// Where the library is looked for, first found wins; `OCTOPUS_CHARTJS` overrides.
    public static var candidates: [String] {
        (ProcessInfo.processInfo.environment["OCTOPUS_CHARTJS"].map { [$0] } ?? []) + [
            "/usr/share/javascript/chart.js/chart.min.js", "/usr/share/javascript/chart.js/chart.js",
        ]
    }

    /// The library's source.
    public static func source() throws -> String {
        for path in candidates {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return text }
        }
        throw RunData.Failure(
            description:
                "Chart.js not found (looked in \(candidates.joined(separator: ", "))): install it with `apt-get install libjs-chart.js` (scripts/ensure-deps does), or set OCTOPUS_CHARTJS to a chart.min.js"
        )
    }
}
