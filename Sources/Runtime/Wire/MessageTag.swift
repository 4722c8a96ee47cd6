import Emulation

/// The tag byte of each ``Message`` kind inside an envelope. The raw values are the wire format:
/// never reuse or renumber one.
enum MessageTag: UInt8, CaseIterable {
    case task = 0
    case outcome = 1
    case load = 2
    case view = 3
    case ready = 4
    case release = 5
    case balance = 6
    case plan = 7
    case transit = 8
    case credit = 9
    case stall = 10
}

extension Message {
    var tag: MessageTag {
        switch self {
        case .task: return .task
        case .outcome: return .outcome
        case .load: return .load
        case .view: return .view
        case .ready: return .ready
        case .release: return .release
        case .balance: return .balance
        case .plan: return .plan
        case .transit: return .transit
        case .credit: return .credit
        case .stall: return .stall
        }
    }
}

extension Message: WireCodable {
    func write(to w: inout ByteWriter) {
        w.u8(tag.rawValue)
        switch self {
        case .task(let task): w.write(task)
        case .outcome(let outcome): w.write(outcome)
        case .load(let load): w.write(load)
        case .view(let view): w.write(view)
        case .ready(let ready): w.write(ready)
        case .release(let release): w.write(release)
        case .balance(let signal): w.write(signal)
        case .plan(let plan): w.write(plan)
        case .transit(let transit): w.write(transit)
        case .credit(let credit): w.write(credit)
        case .stall(let stall): w.write(stall)
        }
    }

    init(from r: inout ByteReader) throws {
        try self.init(tag: try r.u8(), from: &r)
    }

    /// The message of kind `tag` (its tag byte, already read).
    init(tag raw: UInt8, from r: inout ByteReader) throws {
        guard let tag = MessageTag(rawValue: raw) else { throw WireError(description: "unknown message kind \(raw)") }
        switch tag {
        case .task: self = .task(try r.read())
        case .outcome: self = .outcome(try r.read())
        case .load: self = .load(try r.read())
        case .view: self = .view(try r.read())
        case .ready: self = .ready(try r.read())
        case .release: self = .release(try r.read())
        case .balance: self = .balance(try r.read())
        case .plan: self = .plan(try r.read())
        case .transit: self = .transit(try r.read())
        case .credit: self = .credit(try r.read())
        case .stall: self = .stall(try r.read())
        }
    }
}
