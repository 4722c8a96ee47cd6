/// Trimming of spaces around the fields of text files (topology tables, arrival traces, SCALE-Sim
/// configurations), scalar for scalar what Foundation's `trimmingCharacters(in:)` returns with
/// `.whitespaces` or `.whitespacesAndNewlines`, without bridging through `NSString`: that bridging
/// was most of the time spent reading the workflow library's model tables.
extension StringProtocol {
    /// The text without leading and trailing spaces: tab and the Unicode space separators
    /// (`CharacterSet.whitespaces`).
    public func trimmingSpaces() -> String {
        trimmingScalars(where: Self.isSpace)
    }

    /// The text without leading and trailing spaces and line breaks
    /// (`CharacterSet.whitespacesAndNewlines`).
    public func trimmingSpacesAndNewlines() -> String {
        trimmingScalars(where: Self.isSpaceOrNewline)
    }

    /// Tab, a space separator (general category Zs) or the zero-width space, which Foundation's
    /// set keeps from the Unicode versions that counted it as a space.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value == 0x20 || scalar.value == 0x09 }
        return scalar.properties.generalCategory == .spaceSeparator || scalar.value == 0x200B
    }

    /// A space (``isSpace(_:)``), a line break (U+000A–U+000D, U+0085) or a line or paragraph
    /// separator.
    static func isSpaceOrNewline(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) }
        switch scalar.properties.generalCategory {
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: return true
        default: return scalar.value == 0x85 || scalar.value == 0x200B
        }
    }

    private func trimmingScalars(where trimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = Substring(self).unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, trimmed(scalars[start]) { start = scalars.index(after: start) }
        while start < end {
            let last = scalars.index(before: end)
            guard trimmed(scalars[last]) else { break }
            end = last
        }
        return String(Substring(scalars[start..<end]))
    }
}
