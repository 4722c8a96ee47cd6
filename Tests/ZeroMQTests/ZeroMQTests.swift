import XCTest
import ZeroMQ

final class ZeroMQTests: XCTestCase {
    func testMultipartRoundTripOverInproc() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.bind("inproc://round-trip")
        let push = try context.socket(.push)
        try push.connect("inproc://round-trip")
        try push.send([[1, 2, 3], [], Array(repeating: 7, count: 100_000)])
        let frames = try pull.receive()
        XCTAssertEqual(frames?.count, 3)
        XCTAssertEqual(frames?[0], [1, 2, 3])
        XCTAssertEqual(frames?[1], [])
        XCTAssertEqual(frames?[2].count, 100_000)
        XCTAssertNil(try pull.receive(dontWait: true), "nothing else queued")
    }

    func testRouterDealerWithRoutingIdsOverTCP() throws {
        let context = try Context()
        let router = try context.socket(.router)
        try router.bind("tcp://127.0.0.1:*")
        let endpoint = try router.lastEndpoint()
        XCTAssertTrue(endpoint.hasPrefix("tcp://127.0.0.1:"), endpoint)
        XCTAssertFalse(endpoint.hasSuffix(":*"))
        let dealer = try context.socket(.dealer)
        try dealer.setRoutingID("peer-1")
        try dealer.connect(endpoint)
        try dealer.send([Array("hello".utf8)])
        let request = try router.receive()!
        XCTAssertEqual(String(decoding: request[0], as: UTF8.self), "peer-1")
        try router.send([request[0], Array("world".utf8)])
        XCTAssertEqual(try dealer.receive()?.first.map { String(decoding: $0, as: UTF8.self) }, "world")
    }

    func testRouterMandatoryReportsUnknownPeers() throws {
        let context = try Context()
        let router = try context.socket(.router)
        try router.setRouterMandatory()
        try router.bind("inproc://mandatory")
        XCTAssertThrowsError(try router.send([Array("nobody".utf8), [1]])) { error in
            XCTAssertTrue((error as! ZMQError).isHostUnreachable, "\(error)")
        }
    }

    func testPollerTimesOutAndSeesReadableSockets() throws {
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.bind("inproc://poll")
        let push = try context.socket(.push)
        try push.connect("inproc://poll")
        var poller = Poller()
        let index = poller.add(.socket(pull))
        XCTAssertEqual(try poller.poll(timeoutMs: 10), [])
        try push.send([9])
        XCTAssertEqual(try poller.poll(timeoutMs: 1000), [index])
    }

    func testErrorsNameTheOperation() throws {
        let context = try Context()
        let socket = try context.socket(.pull)
        XCTAssertThrowsError(try socket.bind("bogus://x")) { error in
            XCTAssertTrue("\(error)".contains("bind bogus://x"), "\(error)")
        }
    }

    func testMonitorReportsDisconnects() throws {
        let context = try Context()
        let server = try context.socket(.router)
        try server.bind("tcp://127.0.0.1:*")
        let endpoint = try server.lastEndpoint()
        let client = try context.socket(.dealer)
        let monitor = try client.monitor(events: Socket.Event.disconnected, context: context, name: "test-\(getpid())")
        try client.connect(endpoint)
        try client.send([[1]])
        _ = try server.receive()
        server.close()
        var poller = Poller()
        poller.add(.socket(monitor))
        XCTAssertFalse(try poller.poll(timeoutMs: 5000).isEmpty, "a disconnect event within 5 s")
        XCTAssertEqual(try Socket.readMonitorEvent(monitor)?.event, UInt16(Socket.Event.disconnected))
    }
}
