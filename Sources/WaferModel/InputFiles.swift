import CCrypto
import Foundation

/// A file a run read its wafer, workflows, tables or workload from, identified by its content:
/// `sha256sum PATH` prints the same digest while the file is unchanged.
public struct InputFile: Codable, Equatable, Sendable {
    /// The path as it was read (relative paths are relative to the working directory of the
    /// process that read it).
    public var path: String
    public var bytes: Int
    /// SHA-256 of the file's bytes, in lower-case hex.
    public var sha256: String

    public init(path: String, bytes: Int, sha256: String) {
        self.path = path
        self.bytes = bytes
        self.sha256 = sha256
    }

    /// `contents` read from `path`.
    public init(path: String, contents: Data) {
        self.init(path: path, bytes: contents.count, sha256: SHA256Digest.hex(of: contents))
    }
}

/// The files this process read through ``ConfigNode/readText(path:)`` — every configuration,
/// workflow, topology table, workload and arrival trace — in the order first read, each with its
/// digest. A run's summary lists them (`host.inputs`), so that what it ran can be told apart from a
/// later edit of the same file.
public final class InputFileLog: @unchecked Sendable {
    /// The log every loader of this process writes to.
    public static let shared = InputFileLog()

    private let lock = NSLock()
    private var recorded: [InputFile] = []

    public init() {}

    /// Notes that `contents` were read from `path`. A file read again unchanged is listed once;
    /// read again after a change, it is listed with each content.
    public func record(path: String, contents: Data) {
        let file = InputFile(path: path, contents: contents)
        lock.lock()
        defer { lock.unlock() }
        if !recorded.contains(file) { recorded.append(file) }
    }

    /// The files read so far, in the order first read.
    public var files: [InputFile] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

/// SHA-256 through OpenSSL's libcrypto (Debian's libssl-dev).
public enum SHA256Digest {
    /// The digest of `data` in lower-case hex (64 characters).
    public static func hex(of data: Data) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let done = data.withUnsafeBytes { bytes in
            EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha256(), nil)
        }
        precondition(done == 1 && length == 32, "libcrypto could not compute a SHA-256 digest")
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
