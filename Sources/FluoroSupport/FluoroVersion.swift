/// Versions of Fluoro and of the toolchain that built it.
public enum FluoroVersion {
    /// Fluoro's semantic version.
    public static let fluoro = "0.1.0"

    /// The Swift compiler version this binary was built with (major.minor).
    public static var swift: String {
        #if compiler(>=6.4)
        return "6.4 or later"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #elseif compiler(>=6.0)
        return "6.0"
        #else
        return "5.x"
        #endif
    }
}
