import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The files one run writes into its output directory, so that a new run does not replace an
/// earlier one's without being asked (`octopus run --out`, `octopus coordinator --out`).
public enum RunFiles {
    /// Every file a run may write: the summary, either trace, the tables of ``RunTables`` and the
    /// report `--report` adds.
    public static let names = [
        "summary.json", "trace.json", "trace.pftrace", "requests.csv", "timeline.csv", "episodes.csv", "wafer.json",
        "report.html",
    ]

    /// Why `directory` cannot take a new run unless `overwrite` is given, or nil when it can: it
    /// is a file, or it already holds files of a run (named, in ``names`` order).
    public static func problem(outputDirectory directory: String, option: String = "--out", overwrite: Bool)
        -> String?
    {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return "\(option) '\(directory)' is not a directory" }
        guard !overwrite else { return nil }
        let present = names.filter {
            FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0))
        }
        guard !present.isEmpty else { return nil }
        return
            "\(option) '\(directory)' already holds a run (\(present.joined(separator: ", "))): choose another directory, or give --overwrite to replace it"
    }

    /// Removes the files of an earlier run from `directory` (nothing else), so that a run given
    /// `--overwrite` leaves none of the old one's behind (a `trace.json` beside a new
    /// `trace.pftrace`, a stale `report.html`).
    public static func removeRun(in directory: String) throws {
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        }
    }

    /// An output directory that cannot be made or written into, and why.
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Makes `directory` (and its parents) unless it exists, and checks that this process can
    /// write into it, so that a run fails at once with the reason rather than later with an error
    /// of the file system's.
    public static func prepare(outputDirectory directory: String) throws {
        var path = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            path += "/" + component
            var info = stat()
            if stat(path, &info) == 0 {
                guard (info.st_mode & S_IFMT) == S_IFDIR else {
                    throw Unusable(description: "the output directory '\(directory)': '\(path)' is not a directory")
                }
                continue
            }
            guard mkdir(path, 0o777) == 0 || errno == EEXIST else {
                throw Unusable(
                    description:
                        "cannot create the output directory '\(directory)': \(String(cString: strerror(errno)))")
            }
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw Unusable(
                description:
                    "cannot write into the output directory '\(directory)': \(String(cString: strerror(errno)))")
        }
    }
}
