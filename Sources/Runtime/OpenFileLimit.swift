import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The process's limit on open file descriptors. A process hosting many clusters (each a socket,
/// its monitor and a connection) and the coordinator of a large wafer (a connection per cluster)
/// need more than the common soft limit of 1,024; the soft limit may be raised up to the hard one
/// without privileges.
public enum OpenFileLimit {
    /// The limit was too low and could not be raised far enough.
    public struct TooLow: Error, CustomStringConvertible {
        public var needed: Int
        public var hard: Int
        public var description: String {
            "this process needs about \(needed) open files, but the system allows it \(hard) (raise it with `ulimit -Hn`, or host fewer clusters per process)"
        }
    }

    /// Raises the soft limit to at least `needed` (up to the hard limit); throws when the hard
    /// limit is lower.
    public static func ensure(_ needed: Int) throws {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = rlim_t(needed)
        if limit.rlim_cur >= wanted { return }
        // RLIM_INFINITY is the largest value, so it passes this comparison too.
        guard limit.rlim_max >= wanted else {
            throw TooLow(needed: needed, hard: Int(limit.rlim_max))
        }
        limit.rlim_cur = wanted
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
