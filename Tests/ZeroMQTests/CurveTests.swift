import Foundation
import XCTest
import ZeroMQ

/// CurveZMQ over TCP with a ZAP handler: the wafer's key gets in; a wrong key, a client that does
/// not trust the server, and a client without CURVE are refused at the handshake and counted.
final class CurveTests: XCTestCase {
    func receive(_ socket: Socket, within seconds: Double) throws -> [[UInt8]]? {
        var poller = Poller()
        poller.add(.socket(socket))
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try !poller.poll(timeoutMs: 50).isEmpty, let frames = try socket.receive(dontWait: true) {
                return frames
            }
        }
        return nil
    }

    func testOnlyTheWafersKeysGetThrough() throws {
        try XCTSkipUnless(CurveKeyPair.isAvailable, "libzmq was built without CURVE")
        let serverKeys = try CurveKeyPair.generate()
        let member = try CurveKeyPair.generate()
        let stranger = try CurveKeyPair.generate()
        XCTAssertEqual(CurveKeyPair.publicKey(of: member.secretKey), member.publicKey)
        XCTAssertNil(CurveKeyPair.publicKey(of: "not a key"))

        let context = try Context()
        let log = LogCollector()
        let authenticator = try ZAPAuthenticator(context: context, allowed: [member.publicKey]) { log.add($0) }
        let router = try context.socket(.router)
        try router.makeCurveServer(serverKeys, domain: "test")
        try authenticator.watch(router, name: "test")
        authenticator.start()
        defer { authenticator.stop() }
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint()

        func client(_ configure: (Socket) throws -> Void) throws -> Socket {
            let dealer = try context.socket(.dealer)
            try configure(dealer)
            try dealer.connect(endpoint)
            try dealer.send([Array("hello".utf8)], dontWait: true)
            return dealer
        }
        let good = try client { try $0.makeCurveClient(serverKey: serverKeys.publicKey, keys: member) }
        let received = try XCTUnwrap(try receive(router, within: 5), "the wafer's key is admitted")
        XCTAssertEqual(received.last, Array("hello".utf8))
        XCTAssertEqual(authenticator.admitted, 1)

        let wrongKey = try client { try $0.makeCurveClient(serverKey: serverKeys.publicKey, keys: stranger) }
        let wrongServer = try client { try $0.makeCurveClient(serverKey: stranger.publicKey, keys: member) }
        let plain = try client { _ in }
        XCTAssertNil(try receive(router, within: 1.5), "nothing from the strangers reaches the server")
        let deadline = Date().addingTimeInterval(5)
        while authenticator.refused < 3 && Date() < deadline { usleep(20_000) }
        XCTAssertGreaterThanOrEqual(authenticator.refused, 3, log.lines.joined(separator: "\n"))
        XCTAssertTrue(
            log.lines.contains { $0.contains("its key is not one of this wafer's") }, log.lines.joined(separator: "\n"))
        for socket in [good, wrongKey, wrongServer, plain] { socket.close() }
        router.close()
    }
}

/// Thread-safe collection of log lines.
final class LogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func add(_ line: String) {
        lock.lock()
        storage.append(line)
        lock.unlock()
    }
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
