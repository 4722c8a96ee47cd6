import Foundation
import WaferModel
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#endif

/// A wafer's CurveZMQ key material, in a directory of its own (mode 0700):
///
/// - `coordinator.public`, `coordinator.secret` — the coordinator's key pair;
/// - `member.public`, `member.secret` — the key pair of every cluster and control client.
///
/// Secret files are mode 0600 and refused if anyone but their owner can read them. The coordinator
/// admits only clients presenting the member key; clients trust only the coordinator's key. Copy
/// the directory (it is small) to every host that runs part of the wafer; hosts that run only
/// clusters or clients do not need `coordinator.secret` (leave it on the coordinator's host).
public struct WaferKeys: Sendable {
    public let directory: String
    /// The coordinator's public key (Z85), which clients trust.
    public let coordinatorPublicKey: String
    /// The coordinator's secret key: present only where the coordinator runs.
    public let coordinatorSecretKey: String?
    public let member: CurveKeyPair

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static let files = ["coordinator.public", "coordinator.secret", "member.public", "member.secret"]

    /// Writes new key material into `directory` (created with mode 0700); refuses to overwrite
    /// existing key files.
    @discardableResult
    public static func generate(in directory: String) throws -> WaferKeys {
        guard CurveKeyPair.isAvailable else {
            throw Failure(description: "this libzmq was built without CURVE support")
        }
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw Failure(description: "\(directory) exists and is not a directory")
            }
            for file in files where manager.fileExists(atPath: path(directory, file)) {
                throw Failure(description: "\(path(directory, file)) exists; refusing to overwrite a wafer's keys")
            }
            // An existing directory keeps its mode: making a shared one (`/tmp`, a home) private
            // would break it for everyone else, and keys must not go where others can look.
            var info = stat()
            guard stat(directory, &info) == 0, info.st_mode & 0o077 == 0 else {
                throw Failure(
                    description:
                        "\(directory) exists and others may open it (mode \(String(info.st_mode & 0o777, radix: 8))); give a new directory, or chmod 700 it first"
                )
            }
        } else {
            do {
                try manager.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                // Foundation's message here is only its error number; the system says why (not a
                // directory, permission denied, …) when asked to make the directory itself.
                let reason =
                    mkdir(directory, 0o700) == 0 ? error.localizedDescription : String(cString: strerror(errno))
                throw Failure(description: "cannot create \(directory): \(reason)")
            }
        }
        guard chmod(directory, 0o700) == 0 else {
            throw Failure(description: "cannot make \(directory) private (mode 0700)")
        }
        let coordinator = try CurveKeyPair.generate()
        let keys = WaferKeys(
            directory: directory, coordinatorPublicKey: coordinator.publicKey,
            coordinatorSecretKey: coordinator.secretKey,
            member: try .generate())
        try write(coordinator.publicKey, to: path(directory, "coordinator.public"), mode: 0o644)
        try write(coordinator.secretKey, to: path(directory, "coordinator.secret"), mode: 0o600)
        try write(keys.member.publicKey, to: path(directory, "member.public"), mode: 0o644)
        try write(keys.member.secretKey, to: path(directory, "member.secret"), mode: 0o600)
        return keys
    }

    /// Reads the key material of `directory`, checking every key and the secret files' modes.
    /// `coordinator.secret` may be missing (a host that runs only clusters or clients).
    public static func load(from directory: String) throws -> WaferKeys {
        guard CurveKeyPair.isAvailable else {
            throw Failure(description: "this libzmq was built without CURVE support")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure(
                description: "\(directory): no such key directory (make one with `octopus keys generate DIR`)")
        }
        func pair(_ name: String, secretRequired: Bool) throws -> (publicKey: String, secretKey: String?) {
            let publicKey = try read(path(directory, "\(name).public"), secret: false)
            let secretPath = path(directory, "\(name).secret")
            guard secretRequired || FileManager.default.fileExists(atPath: secretPath) else { return (publicKey, nil) }
            let secret = try read(secretPath, secret: true)
            guard CurveKeyPair.publicKey(of: secret) == publicKey else {
                throw Failure(
                    description: "\(secretPath) does not belong to \(name).public (a mixed-up key directory?)")
            }
            return (publicKey, secret)
        }
        let coordinator = try pair("coordinator", secretRequired: false)
        let member = try pair("member", secretRequired: true)
        return WaferKeys(
            directory: directory, coordinatorPublicKey: coordinator.publicKey,
            coordinatorSecretKey: coordinator.secretKey,
            member: CurveKeyPair(publicKey: member.publicKey, secretKey: member.secretKey!))
    }

    /// The coordinator's key pair; only the coordinator's host has its secret.
    public func coordinatorPair() throws -> CurveKeyPair {
        guard let coordinatorSecretKey else {
            throw Failure(
                description:
                    "\(WaferKeys.path(directory, "coordinator.secret")): missing; the coordinator needs it (this directory only serves clusters and clients)"
            )
        }
        return CurveKeyPair(publicKey: coordinatorPublicKey, secretKey: coordinatorSecretKey)
    }

    private static func path(_ directory: String, _ file: String) -> String {
        (directory as NSString).appendingPathComponent(file)
    }

    private static func write(_ key: String, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let line = Array((key + "\n").utf8)
        guard line.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == line.count, fchmod(fd, mode) == 0
        else {
            throw Failure(description: "cannot write \(path)")
        }
    }

    private static func read(_ path: String, secret: Bool) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Failure(
                description: "\(path): no such key file (make the directory with `octopus keys generate DIR`)")
        }
        if secret && info.st_mode & 0o077 != 0 {
            throw Failure(
                description:
                    "\(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Failure(description: "\(path) is not readable text")
        }
        let key = text.trimmingSpacesAndNewlines()
        guard CurveKeyPair.isKey(key) else {
            throw Failure(description: "\(path) does not hold a CurveZMQ key (40 Z85 characters)")
        }
        return key
    }
}
