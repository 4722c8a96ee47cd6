import Emulation
import WaferModel

extension ParticipantID: WireCodable {
    func write(to w: inout ByteWriter) { w.i32(rawValue) }
    init(from r: inout ByteReader) throws { self.init(rawValue: try r.i32()) }
}

extension Envelope: WireCodable {
    func write(to w: inout ByteWriter) {
        w.write(source)
        w.write(destination)
        w.u64(sendTime)
        w.u64(arrival)
        w.u64(sequence)
        w.write(message)
    }

    init(from r: inout ByteReader) throws {
        let source = try r.read(ParticipantID.self)
        let destination = try r.read(ParticipantID.self)
        let send = try r.u64()
        let arrival = try r.u64()
        let sequence = try r.u64()
        self.init(
            source: source, destination: destination, sendTime: send, arrival: arrival, sequence: sequence,
            message: try r.read())
    }
}
