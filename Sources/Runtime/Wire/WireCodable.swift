/// A value with a binary wire form: fixed-width little-endian fields written by ``ByteWriter`` and
/// read back, bounds-checked, by ``ByteReader``. Each message type conforms in a file of its own;
/// ``MessageTag`` tells them apart inside an envelope.
protocol WireCodable {
    func write(to w: inout ByteWriter)
    init(from r: inout ByteReader) throws
}

extension ByteWriter {
    mutating func write<T: WireCodable>(_ value: T) { value.write(to: &self) }

    /// A count, then every element.
    mutating func write<T: WireCodable>(_ values: [T]) {
        count(values.count)
        for value in values { value.write(to: &self) }
    }

    /// A presence flag (0 or 1), then the value if present.
    mutating func write<T: WireCodable>(optional value: T?) {
        if let value {
            u8(1)
            value.write(to: &self)
        } else {
            u8(0)
        }
    }
}

extension ByteReader {
    mutating func read<T: WireCodable>(_: T.Type = T.self) throws -> T { try T(from: &self) }

    /// What ``ByteWriter/write(_:)-([T])`` wrote.
    mutating func readArray<T: WireCodable>(_: T.Type = T.self) throws -> [T] {
        let n = try count()
        var values: [T] = []
        values.reserveCapacity(n)
        for _ in 0..<n { values.append(try T(from: &self)) }
        return values
    }

    /// What ``ByteWriter/write(optional:)`` wrote.
    mutating func readOptional<T: WireCodable>(_: T.Type = T.self, what: String) throws -> T? {
        switch try u8() {
        case 0: return nil
        case 1: return try T(from: &self)
        case let flag: throw WireError(description: "bad presence flag \(flag) of \(what)")
        }
    }

    /// A one-byte enumeration value.
    mutating func enumeration<T: RawRepresentable>(_: T.Type, what: String) throws -> T where T.RawValue == UInt8 {
        let raw = try u8()
        guard let value = T(rawValue: raw) else { throw WireError(description: "unknown \(what) \(raw)") }
        return value
    }
}
