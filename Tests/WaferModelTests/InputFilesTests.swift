import Foundation
import XCTest

@testable import WaferModel

final class InputFilesTests: XCTestCase {
    /// The digests are SHA-256's (FIPS 180-2's test vectors).
    func testDigestsAreSHA256() {
        XCTAssertEqual(
            SHA256Digest.hex(of: Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256Digest.hex(of: Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// A file read unchanged is listed once; read again after a change, once per content; in
    /// the order first read.
    func testTheLogListsEachContentOnceInTheOrderRead() {
        let log = InputFileLog()
        log.record(path: "b.yaml", contents: Data("one".utf8))
        log.record(path: "a.yaml", contents: Data("two".utf8))
        log.record(path: "b.yaml", contents: Data("one".utf8))
        log.record(path: "b.yaml", contents: Data("three".utf8))
        XCTAssertEqual(log.files.map(\.path), ["b.yaml", "a.yaml", "b.yaml"])
        XCTAssertEqual(log.files.map(\.bytes), [3, 3, 5])
        XCTAssertEqual(log.files[2].sha256, SHA256Digest.hex(of: Data("three".utf8)))
    }

    /// Every file the loaders read goes through `ConfigNode.readText`, which notes it in the
    /// shared log with its digest; a file that could not be read is not noted.
    func testReadingAConfigurationNotesIt() throws {
        let directory = NSTemporaryDirectory() + "input-files-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/wafer.yaml"
        let text = "name: noted\nmesh: {rows: 1, columns: 2}\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try ConfigNode.readText(path: path)
        XCTAssertEqual(
            InputFileLog.shared.files.filter { $0.path == path },
            [InputFile(path: path, bytes: text.utf8.count, sha256: SHA256Digest.hex(of: Data(text.utf8)))])
        XCTAssertThrowsError(try ConfigNode.readText(path: directory + "/missing.yaml"))
        XCTAssertFalse(InputFileLog.shared.files.contains { $0.path.hasSuffix("missing.yaml") })
    }
}
