/// Mean, median, standard deviation and maximum of a set of errors (one unit: px or mm).
public struct ErrorStatistics: Codable, Sendable, Equatable {
    /// How many errors.
    public var count: Int
    public var mean: Double
    /// The middle value (the mean of the two middle values for an even count).
    public var median: Double
    /// Population standard deviation (divides by `count`, as numpy's default).
    public var std: Double
    public var max: Double

    /// The statistics of `values`; nil when there are none.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let n = Double(values.count)
        let sorted = values.sorted()
        count = values.count
        mean = values.reduce(0, +) / n
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        let m = mean
        std = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n).squareRoot()
        max = sorted[sorted.count - 1]
    }
}
