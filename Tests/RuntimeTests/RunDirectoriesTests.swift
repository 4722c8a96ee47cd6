import Foundation
import XCTest

@testable import Runtime

#if canImport(Glibc)
    import Glibc
#endif

final class RunDirectoriesTests: XCTestCase {
    func testRunDirectoriesAreOwnerOnlyWhateverTheUmask() throws {
        let previous = umask(0)
        defer { umask(previous) }
        let directory = try RunDirectories.make()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var info = stat()
        XCTAssertEqual(stat(directory, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
        XCTAssertEqual(RunDirectories.owner(of: (directory as NSString).lastPathComponent), getpid())
    }

    func testStaleDirectoriesOfDeadLaunchersAreRemovedAndLiveOnesKept() throws {
        // A process that has exited: its pid is free (until reused, which the test cannot rule out
        // entirely, so it checks the live directory only against its own parent).
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let temporary = FileManager.default.temporaryDirectory.path
        let dead = temporary + "/octopus-\(finished.processIdentifier)-12345"
        let live = temporary + "/octopus-\(getppid())-12345"
        let unrelated = temporary + "/octopus-notes-12345"
        for path in [dead, live, unrelated] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        defer { for path in [dead, live, unrelated] { try? FileManager.default.removeItem(atPath: path) } }
        RunDirectories.removeStale()
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead), "the dead launcher's directory is left")
        XCTAssertTrue(FileManager.default.fileExists(atPath: live), "a running launcher's directory was removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: unrelated), "a directory not named by a pid was removed")
    }
}
