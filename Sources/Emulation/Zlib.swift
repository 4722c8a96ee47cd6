import CZlib

/// zlib (RFC 1950) compression through Debian's libz, as Perfetto's `compressed_packets` expects.
enum Zlib {
    /// `bytes` compressed at `level` (0–9; 6 is zlib's default balance of speed and size).
    static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &length, input.baseAddress, uLong(bytes.count), level)
            }
        }
        // compressBound guarantees room, and the arguments are valid: only memory can run out.
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        output.removeLast(output.count - Int(length))
        return output
    }
}
