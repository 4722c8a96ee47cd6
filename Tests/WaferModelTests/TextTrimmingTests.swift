import Foundation
import XCTest

@testable import WaferModel

/// The file readers trim fields without Foundation; these hold the result to Foundation's.
final class TextTrimmingTests: XCTestCase {
    /// Every Unicode scalar is trimmed exactly when Foundation's character sets contain it.
    func testScalarClassesEqualFoundationsCharacterSets() {
        let spaces = CharacterSet.whitespaces
        let spacesAndNewlines = CharacterSet.whitespacesAndNewlines
        var checked = 0
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            XCTAssertEqual(String.isSpace(scalar), spaces.contains(scalar), "U+\(String(value, radix: 16))")
            XCTAssertEqual(
                String.isSpaceOrNewline(scalar), spacesAndNewlines.contains(scalar), "U+\(String(value, radix: 16))")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 1_000_000)
    }

    /// Strings and substrings of spaces, tabs, line breaks, combining marks and other text, random
    /// and hand-picked, trim as `trimmingCharacters(in:)` trims them.
    func testTrimmingEqualsFoundation() {
        let pieces = [
            " ", "\t", "\n", "\r\n", "\u{A0}", "\u{2003}", "\u{3000}", "\u{85}", "\u{2028}", "a", "bc", "1,5",
            "\u{301}", "é", "\u{200B}", "#", "=", "\u{1F600}", "",
        ]
        var rng = SplitMix64(seed: 7)
        var samples = ["", " ", "  a b  ", "\ta\t", " \u{301}x", "x \u{301}", "\u{A0}M\u{3000}", "\r\n"]
        for _ in 0..<2_000 {
            let count = Int(rng.next() % 7)
            samples.append((0..<count).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined())
        }
        for text in samples {
            XCTAssertEqual(
                text.trimmingSpaces(), text.trimmingCharacters(in: .whitespaces), "\(Array(text.unicodeScalars))")
            XCTAssertEqual(
                text.trimmingSpacesAndNewlines(), text.trimmingCharacters(in: .whitespacesAndNewlines),
                "\(Array(text.unicodeScalars))")
            let inner = text.dropFirst().dropLast()
            XCTAssertEqual(inner.trimmingSpaces(), inner.trimmingCharacters(in: .whitespaces))
        }
    }
}
