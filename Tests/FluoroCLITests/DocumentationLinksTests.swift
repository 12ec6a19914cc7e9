import Foundation
import Testing

/// Every relative link in README.md and docs/*.md names a file inside the repository: a clone
/// stands alone (issue 10, item 19), so no link may reach `../shared` or a file not committed.
@Suite struct DocumentationLinksTests {
    /// The repository's root: this file is Tests/FluoroCLITests/DocumentationLinksTests.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().standardizedFileURL

    /// README.md and every Markdown file in docs/.
    static var pages: [URL] {
        let docs = root.appendingPathComponent("docs")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: docs.path)) ?? []
        return [root.appendingPathComponent("README.md")]
            + names.filter { $0.hasSuffix(".md") }.sorted().map { docs.appendingPathComponent($0) }
    }

    /// The targets of `[text](target)` and `![alt](target)` links that are not web addresses or
    /// anchors in the same page, without their `#fragment`.
    static func relativeTargets(in markdown: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
        let range = NSRange(markdown.startIndex..., in: markdown)
        return pattern.matches(in: markdown, range: range).compactMap { match in
            guard let r = Range(match.range(at: 1), in: markdown) else { return nil }
            let target = String(markdown[r])
            if target.hasPrefix("#") || target.contains("://") || target.hasPrefix("mailto:") { return nil }
            return String(target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0])
        }
    }

    /// Problems with one page's links: targets that do not exist or lie outside the repository.
    static func brokenLinks(in page: URL) throws -> [String] {
        let text = try String(contentsOf: page, encoding: .utf8)
        let base = page.deletingLastPathComponent()
        return relativeTargets(in: text).compactMap { target in
            let resolved = base.appendingPathComponent(target).standardizedFileURL
            let name = "\(page.lastPathComponent): \(target)"
            if !resolved.path.hasPrefix(root.path + "/") { return "\(name) leaves the repository" }
            return FileManager.default.fileExists(atPath: resolved.path) ? nil : "\(name) does not exist"
        }
    }

    @Test func everyRelativeLinkResolvesInsideTheRepository() throws {
        let pages = Self.pages
        #expect(pages.count >= 6, "README.md and docs/*.md expected under \(Self.root.path)")
        #expect(pages.contains { $0.lastPathComponent == "METHOD.md" }, "docs/METHOD.md is the method as built")
        var broken: [String] = []
        for page in pages { broken += try Self.brokenLinks(in: page) }
        #expect(broken.isEmpty, "broken links: \(broken.joined(separator: "; "))")
    }

    /// The checker itself: it sees links and images, skips web addresses and anchors, and flags a
    /// missing file and a link out of the repository.
    @Test func checkerFindsBrokenAndOutsideLinks() throws {
        let text = "[a](docs/METHOD.md#4-masks) ![b](x.png) [c](https://example.org/y) [d](#top) [e](../shared/spec/METHOD.md)"
        #expect(Self.relativeTargets(in: text) == ["docs/METHOD.md", "x.png", "../shared/spec/METHOD.md"])
        let page = FileManager.default.temporaryDirectory.appendingPathComponent("links-\(UUID().uuidString).md")
        try Data("[m](docs/METHOD.md) [gone](docs/NOPE.md)".utf8).write(to: page)
        defer { try? FileManager.default.removeItem(at: page) }
        #expect(try Self.brokenLinks(in: page).count == 2, "a page outside the repository: both links leave it")
        let inside = Self.root.appendingPathComponent(".links-test-\(UUID().uuidString).md")
        try Data("[m](docs/METHOD.md) [gone](docs/NOPE.md) [out](../shared/spec/METHOD.md)".utf8).write(to: inside)
        defer { try? FileManager.default.removeItem(at: inside) }
        #expect(try Self.brokenLinks(in: inside) == ["\(inside.lastPathComponent): docs/NOPE.md does not exist",
                                                      "\(inside.lastPathComponent): ../shared/spec/METHOD.md leaves the repository"])
    }
}
