/// Builds JSON text as UTF-8 bytes: literals, decimal integers, fixed-point microseconds and
/// string literals, appended without going through `String`. The trace writer renders a few
/// hundred thousand events per second of run with it; building each event as an interpolated
/// `String` cost as much CPU as the run that produced them.
struct JSONBytes {
    /// The text so far.
    var bytes: [UInt8] = []

    var isEmpty: Bool { bytes.isEmpty }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// Appends a literal (JSON punctuation, keys and fixed values).
    mutating func append(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends bytes already rendered (e.g. a cached string literal).
    mutating func append(_ rendered: [UInt8]) {
        bytes.append(contentsOf: rendered)
    }

    /// Appends `value` in decimal.
    mutating func append(_ value: UInt64) {
        if value < 10 {
            bytes.append(0x30 + UInt8(value))
            return
        }
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: digits))
        bytes.withUnsafeMutableBufferPointer { text in
            var rest = value
            var index = start + digits - 1
            repeat {
                text[index] = 0x30 + UInt8(rest % 10)
                rest /= 10
                index -= 1
            } while rest > 0
        }
    }

    /// Appends `value` in decimal, with a minus sign when negative.
    mutating func append(_ value: Int) {
        if value < 0 { bytes.append(0x2D) }
        append(UInt64(value.magnitude))
    }

    /// Appends `cycles` at `clockMHz` as microseconds: an exact decimal with no trailing zeros
    /// (integer arithmetic, so the same on every machine): 1500 cycles at 1000 MHz is `1.5`.
    mutating func appendMicroseconds(_ cycles: UInt64, clockMHz: UInt64) {
        append(cycles / clockMHz)
        var fraction = (cycles % clockMHz) * 1_000_000 / clockMHz
        guard fraction > 0 else { return }
        var digits = 6
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        bytes.append(0x2E)
        var width = 1
        var rest = fraction
        while rest >= 10 {
            rest /= 10
            width += 1
        }
        bytes.append(contentsOf: repeatElement(0x30, count: digits - width))
        append(fraction)
    }

    /// `text` as a JSON string literal, quotes included.
    static func quoted(_ text: String) -> [UInt8] {
        var out = JSONBytes()
        out.bytes.reserveCapacity(text.utf8.count + 2)
        out.bytes.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out.append("\\\"")
            case 0x5C: out.append("\\\\")
            case 0x0A: out.append("\\n")
            case 0x0D: out.append("\\r")
            case 0x09: out.append("\\t")
            case ..<0x20:
                out.append("\\u00")
                let hex: StaticString = "0123456789abcdef"
                hex.withUTF8Buffer { digits in
                    out.bytes.append(digits[Int(byte >> 4)])
                    out.bytes.append(digits[Int(byte & 0xF)])
                }
            default: out.bytes.append(byte)
            }
        }
        out.bytes.append(0x22)
        return out.bytes
    }
}
