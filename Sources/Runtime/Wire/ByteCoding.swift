/// A malformed frame from the network: reported, never a crash.
public struct WireError: Error, CustomStringConvertible {
    public var description: String
}

/// Appends little-endian fixed-width values to a byte buffer.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    mutating func count(_ v: Int) { u32(UInt32(v)) }
    /// A byte string: its length, then the bytes.
    mutating func byteString(_ v: [UInt8]) {
        count(v.count)
        bytes.append(contentsOf: v)
    }
    /// Bytes another writer wrote, as they are (no length).
    mutating func raw(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    /// Floats as their raw little-endian bit patterns, in one copy.
    mutating func floats(_ values: [Float]) {
        count(values.count)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
}

/// Reads what ``ByteWriter`` wrote, checking every bound.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else {
            throw WireError(description: "frame truncated: needed \(n) bytes at offset \(offset) of \(bytes.count)")
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else {
            throw WireError(description: "frame truncated: needed \(size) bytes at offset \(offset) of \(bytes.count)")
        }
        // One unaligned load instead of a byte loop over a slice: grants and reports are
        // mostly integers, and this is most of what decoding them costs.
        let raw = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        offset += size
        return T(littleEndian: raw)
    }

    mutating func u8() throws -> UInt8 { try integer(UInt8.self) }
    mutating func u16() throws -> UInt16 { try integer(UInt16.self) }
    mutating func u32() throws -> UInt32 { try integer(UInt32.self) }
    mutating func u64() throws -> UInt64 { try integer(UInt64.self) }
    mutating func i32() throws -> Int32 { Int32(bitPattern: try u32()) }

    /// A collection count, sanity-checked against the bytes left (each element takes ≥ 1 byte).
    mutating func count() throws -> Int {
        let n = Int(try u32())
        guard n <= bytes.count - offset else { throw WireError(description: "implausible element count \(n)") }
        return n
    }

    /// A byte string written by ``ByteWriter/byteString(_:)``.
    mutating func byteString() throws -> [UInt8] {
        let n = Int(try u32())
        return Array(try take(n))
    }

    /// Floats written by ``ByteWriter/floats(_:)``.
    mutating func floats() throws -> [Float] {
        let n = Int(try u32())
        guard n <= (bytes.count - offset) / 4 else { throw WireError(description: "implausible float count \(n)") }
        let slice = try take(n * 4)
        return [Float](unsafeUninitializedCapacity: n) { buffer, initialised in
            slice.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
            }
            initialised = n
        }
    }

    func expectEnd() throws {
        guard isAtEnd else { throw WireError(description: "\(bytes.count - offset) unexpected trailing bytes") }
    }
}
