import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The private directories `octopus run` keeps its ipc:// sockets in:
/// `$TMPDIR/octopus-<pid>-<random>`, owner-only (0700) whatever the umask, so no other local user
/// can reach the wafer's sockets. A launcher killed with SIGKILL cannot remove its own; the next
/// run removes those whose process is gone.
public enum RunDirectories {
    static let prefix = "octopus-"

    /// Makes a new private directory for this process.
    public static func make() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(prefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        guard mkdir(directory, 0o700) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: directory])
        }
        // mkdir's mode is masked by the umask; make it exactly owner-only.
        guard chmod(directory, 0o700) == 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: directory])
        }
        return directory
    }

    /// Removes run directories of this user whose launcher is no longer running.
    public static func removeStale() {
        let temporary = FileManager.default.temporaryDirectory.path
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: temporary) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            guard let pid = owner(of: entry), pid != getpid() else { continue }
            let path = (temporary as NSString).appendingPathComponent(entry)
            var info = stat()
            // Only our own directories, and only when their process is gone (ESRCH).
            guard lstat(path, &info) == 0, info.st_uid == getuid(), (info.st_mode & S_IFMT) == S_IFDIR else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    /// The launcher pid in a directory name `octopus-<pid>-<random>`.
    static func owner(of name: String) -> pid_t? {
        let parts = name.dropFirst(prefix.count).split(separator: "-")
        guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, UInt32(parts[1]) != nil else { return nil }
        return pid
    }
}
