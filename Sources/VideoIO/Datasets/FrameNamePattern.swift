/// How the images of a frame folder are named: a prefix, a zero-padded frame number, a suffix.
///
/// Written in Python's format style as the reference data preparation scripts do (`img_{:05d}.jpg`,
/// `{:06d}.png`, `frame{}.jpg`) or in printf style (`img_%05d.jpg`). Frame `i` (0-based) of a clip
/// is the file numbered `startIndex + i`; mmaction2's extracted frames start at 1.
public struct FrameNamePattern: Sendable, Hashable {
    /// The text before the number.
    public let prefix: String
    /// The text after the number.
    public let suffix: String
    /// The minimum digit count (zero-padded); 0 for no padding.
    public let width: Int
    /// The number of the first frame's file.
    public let startIndex: Int

    /// Parses a pattern with one `{}`/`{:d}`/`{:0Nd}` or `%d`/`%0Nd` field.
    ///
    /// - Precondition: the pattern has exactly one such field.
    public init(_ pattern: String, startIndex: Int = 1) {
        guard let parsed = FrameNamePattern.parse(pattern) else {
            preconditionFailure("FrameNamePattern: `\(pattern)` needs one {:0Nd} or %0Nd field")
        }
        (prefix, width, suffix) = parsed
        self.startIndex = startIndex
    }

    /// mmaction2's default naming, `img_00001.jpg` onwards.
    public static let mmaction = FrameNamePattern("img_{:05d}.jpg")

    /// The file name of frame `index` (0-based within the folder).
    public func fileName(frame index: Int) -> String {
        let digits = String(startIndex + index)
        let padding = String(repeating: "0", count: max(0, width - digits.count))
        return prefix + padding + digits + suffix
    }

    private static func parse(_ pattern: String) -> (String, Int, String)? {
        let fields: [(open: String, close: String)] = [("{", "}"), ("%", "d")]
        var found: (String, Int, String)?
        for (open, close) in fields {
            guard let start = pattern.range(of: open),
                let end = pattern.range(of: close, range: start.upperBound..<pattern.endIndex)
            else { continue }
            var spec = Substring(pattern[start.upperBound..<end.lowerBound])
            // Python's spec is `:0Nd`, `:d` or empty; printf's is `0N` or empty (its `d` closes it).
            if open == "{" {
                if spec.hasPrefix(":") { spec = spec.dropFirst() }
                if spec.hasSuffix("d") { spec = spec.dropLast() }
            }
            if spec.hasPrefix("0") { spec = spec.dropFirst() }
            guard spec.isEmpty || Int(spec) != nil, found == nil else { return nil }
            let suffix = String(pattern[end.upperBound...])
            guard !suffix.contains("{"), !suffix.contains("%") else { return nil }
            found = (String(pattern[..<start.lowerBound]), Int(spec) ?? 0, suffix)
        }
        return found
    }
}
