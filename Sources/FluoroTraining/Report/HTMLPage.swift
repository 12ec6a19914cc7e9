import Foundation

/// A self-contained HTML page built from a few kinds of blocks: headings, paragraphs, tables,
/// preformatted text and PNG images embedded as base64 data URIs. Text is escaped.
public struct HTMLPage {
    /// The page title.
    public var title: String
    private var body: [String] = []

    public init(title: String) { self.title = title }

    /// A section heading.
    public mutating func heading(_ text: String) { body.append("<h2>\(Self.escape(text))</h2>") }

    /// A paragraph of text.
    public mutating func paragraph(_ text: String) { body.append("<p>\(Self.escape(text))</p>") }

    /// Text kept as written (JSON, logs).
    public mutating func preformatted(_ text: String) { body.append("<pre>\(Self.escape(text))</pre>") }

    /// A table; numeric-looking cells align right.
    public mutating func table(header: [String], rows: [[String]]) {
        func cell(_ tag: String, _ text: String) -> String {
            let numeric = Double(text.replacingOccurrences(of: ",", with: "")) != nil
            return "<\(tag)\(numeric ? " class=\"n\"" : "")>\(Self.escape(text))</\(tag)>"
        }
        let head = "<tr>" + header.map { cell("th", $0) }.joined() + "</tr>"
        let lines = rows.map { "<tr>" + $0.map { cell("td", $0) }.joined() + "</tr>" }
        body.append("<table>\n\(head)\n\(lines.joined(separator: "\n"))\n</table>")
    }

    /// A PNG image embedded in the page, captioned.
    public mutating func image(png: Data, caption: String) {
        body.append("<figure><img alt=\"\(Self.escape(caption))\" src=\"data:image/png;base64,\(png.base64EncodedString())\">"
                    + "<figcaption>\(Self.escape(caption))</figcaption></figure>")
    }

    /// The whole document.
    public func render() -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
        <style>
        body { font-family: sans-serif; margin: 2em; max-width: 1400px; color: #222; }
        table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
        th, td { border: 1px solid #ccc; padding: 3px 8px; } th { background: #eee; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
        pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 12px; }
        figure { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
        figcaption { font-size: 12px; color: #555; }
        img { border: 1px solid #ddd; max-width: 100%; }
        </style></head><body>
        <h1>\(Self.escape(title))</h1>
        \(body.joined(separator: "\n"))
        </body></html>

        """
    }

    /// `text` with &, <, > and quotes escaped.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
