/// Virtual time, counted in clock cycles of the emulated wafer.
public typealias Cycle = UInt64

extension Cycle {
    /// A time that never comes: "no event" / "no promise".
    public static let never: Cycle = .max

    /// `self + other`, saturating at ``never`` instead of trapping.
    @inlinable
    public func adding(_ other: Cycle) -> Cycle {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .never : sum
    }

    /// `self × other`, saturating at ``never`` instead of trapping (byte counts and byte-hops,
    /// which other clusters' messages may make absurd).
    @inlinable
    public func multiplying(_ other: UInt64) -> UInt64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .never : product
    }
}
