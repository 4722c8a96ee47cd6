import Emulation
import WaferModel

extension ParticipantID: WireCodable {
    func write(to w: inout ByteWriter) { w.i32(rawValue) }
    init(from r: inout ByteReader) throws { self.init(rawValue: try r.i32()) }
}

extension Envelope: WireCodable {
    func write(to w: inout ByteWriter) {
        writeHeader(to: &w)
        w.write(message)
    }

    /// Everything but the message.
    func writeHeader(to w: inout ByteWriter) {
        w.write(source)
        w.write(destination)
        w.u64(sendTime)
        w.u64(arrival)
        w.u64(sequence)
    }

    init(from r: inout ByteReader) throws {
        try self.init(from: &r) { r, tag in try Message(tag: tag, from: &r) }
    }

    /// An envelope whose message, after its tag byte, `message` reads (a GRANTS message's
    /// grants may refer to a shared message instead of holding it).
    init(from r: inout ByteReader, message: (inout ByteReader, UInt8) throws -> Message) throws {
        let source = try r.read(ParticipantID.self)
        let destination = try r.read(ParticipantID.self)
        let send = try r.u64()
        let arrival = try r.u64()
        let sequence = try r.u64()
        let tag = try r.u8()
        self.init(
            source: source, destination: destination, sendTime: send, arrival: arrival, sequence: sequence,
            message: try message(&r, tag))
    }
}
