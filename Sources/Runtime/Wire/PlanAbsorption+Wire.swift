import Emulation
import Scheduling

extension PlanAbsorption.Slot: WireCodable {
    func write(to w: inout ByteWriter) {
        switch self {
        case .busy: w.u8(0)
        case .free(nil): w.u8(1)
        case .free(let type?):
            w.u8(2)
            type.write(to: &w)
        }
    }

    init(from r: inout ByteReader) throws {
        switch try r.u8() {
        case 0: self = .busy
        case 1: self = .free(nil)
        case 2: self = .free(try TaskType(from: &r))
        case let tag: throw WireError(description: "bad TBU slot tag \(tag)")
        }
    }
}
