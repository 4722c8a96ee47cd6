import Foundation
import Runtime
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

final class WaferKeysTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("octopus-keys-\(getpid())-\(UUID())").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
    }

    func testGenerateWritesPrivateFilesAndRefusesToOverwrite() throws {
        let keys = try WaferKeys.generate(in: directory)
        XCTAssertEqual(mode(directory), 0o700)
        XCTAssertEqual(mode(directory + "/coordinator.secret"), 0o600)
        XCTAssertEqual(mode(directory + "/member.secret"), 0o600)
        XCTAssertEqual(mode(directory + "/member.public"), 0o644)
        let loaded = try WaferKeys.load(from: directory)
        XCTAssertEqual(loaded.coordinatorPublicKey, keys.coordinatorPublicKey)
        XCTAssertEqual(loaded.member, keys.member)
        XCTAssertNotEqual(keys.member.publicKey, keys.coordinatorPublicKey)
        XCTAssertThrowsError(try WaferKeys.generate(in: directory)) { error in
            XCTAssertTrue("\(error)".contains("refusing to overwrite"), "\(error)")
        }
        XCTAssertEqual(try WaferKeys.load(from: directory).member, keys.member, "the refused generate changed nothing")
    }

    /// Keys go into a new directory, or an existing one only if it is already private: the mode
    /// of a directory the user names is never changed (`keys generate /tmp` made /tmp private).
    func testAnExistingDirectoryMustAlreadyBePrivate() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o755)
        XCTAssertThrowsError(try WaferKeys.generate(in: directory)) { error in
            XCTAssertTrue("\(error)".contains("exists and others may open it (mode 755)"), "\(error)")
        }
        XCTAssertEqual(mode(directory), 0o755, "its mode is left as it was")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/member.secret"), "nothing written")
        chmod(directory, 0o700)
        let keys = try WaferKeys.generate(in: directory)
        XCTAssertEqual(try WaferKeys.load(from: directory).member, keys.member)
    }

    func testAClusterHostNeedsNoCoordinatorSecret() throws {
        let keys = try WaferKeys.generate(in: directory)
        try FileManager.default.removeItem(atPath: directory + "/coordinator.secret")
        let member = try WaferKeys.load(from: directory)
        XCTAssertEqual(member.coordinatorPublicKey, keys.coordinatorPublicKey)
        XCTAssertNil(member.coordinatorSecretKey)
        XCTAssertThrowsError(try member.coordinatorPair()) { error in
            XCTAssertTrue("\(error)".contains("coordinator.secret: missing"), "\(error)")
        }
    }

    func testBadKeyDirectoriesNameTheFile() throws {
        XCTAssertThrowsError(try WaferKeys.load(from: directory)) {
            XCTAssertTrue("\($0)".contains("no such key directory"), "\($0)")
        }
        try WaferKeys.generate(in: directory)
        chmod(directory + "/member.secret", 0o644)
        XCTAssertThrowsError(try WaferKeys.load(from: directory)) {
            XCTAssertTrue("\($0)".contains("member.secret is readable by others"), "\($0)")
        }
        chmod(directory + "/member.secret", 0o600)
        try "not a key\n".write(toFile: directory + "/member.public", atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try WaferKeys.load(from: directory)) {
            XCTAssertTrue("\($0)".contains("member.public does not hold a CurveZMQ key"), "\($0)")
        }
        // A public key that is valid but not the secret's own.
        try FileManager.default.removeItem(atPath: directory + "/member.public")
        try FileManager.default.copyItem(
            atPath: directory + "/coordinator.public", toPath: directory + "/member.public")
        XCTAssertThrowsError(try WaferKeys.load(from: directory)) {
            XCTAssertTrue("\($0)".contains("member.secret does not belong to member.public"), "\($0)")
        }
        try FileManager.default.removeItem(atPath: directory + "/member.secret")
        XCTAssertThrowsError(try WaferKeys.load(from: directory)) {
            XCTAssertTrue("\($0)".contains("member.secret: no such key file"), "\($0)")
        }
    }
}
