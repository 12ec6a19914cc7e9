import Foundation

/// VideoMAE's fixed 1-D sin-cos position table, computed in Double like the reference.
public enum PositionTable {
    /// [n, d]: angle(pos, j) = pos / 10000^(2⌊j/2⌋/d); sin at even j, cos at odd j.
    public static func sinCos(positions n: Int, width d: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n * d)
        for pos in 0..<n {
            for j in 0..<d {
                let angle = Double(pos) / pow(10000.0, 2 * Double(j / 2) / Double(d))
                out[pos * d + j] = Float(j % 2 == 0 ? sin(angle) : cos(angle))
            }
        }
        return out
    }
}
