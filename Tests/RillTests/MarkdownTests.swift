// Markdown: parsed into page nodes, raw HTML reduced to text, unsafe addresses dropped, hostile input bounded.

@testable import Rill
import Testing

@Suite struct MarkdownTests {
    @Test func markdownBecomesElementsAndRawScriptBecomesText() {
        let json = MarkdownDocument("# Title\n\nSome **bold** and <script>alert(1)</script> &copy; here.").json
        #expect(json == [
            ["kind": "element", "tag": "h1", "children": [["kind": "text", "value": "Title"]]],
            ["kind": "element", "tag": "p", "children": [
                ["kind": "text", "value": "Some "],
                ["kind": "element", "tag": "strong", "children": [["kind": "text", "value": "bold"]]],
                ["kind": "text", "value": " and alert(1) © here."],
            ]],
        ])
    }

    @Test(arguments: [
        ("[a](javascript:alert(1))", nil), ("[a](JavaScript:x)", nil), ("[a]( data:text/html,x)", nil),
        ("[a](/docs)", "/docs"), ("[a](https://example.com/x?y=1)", "https://example.com/x?y=1"), ("[a](mailto:a@b.c)", "mailto:a@b.c"),
    ] as [(String, String?)])
    func onlySafeAddressesAreKept(markdown: String, href: String?) {
        let link = MarkdownDocument(markdown).json[0]?["children"]?[0]
        #expect(link?["tag"] == "a")
        #expect(link?["attrs"]?["href"] == href.map(JSON.string))
    }

    @Test func deepNestingIsCutAndHugeTextIsBounded() {
        // Lists nested a thousand deep, and more text than the bound.
        let nested = (0..<1000).map { String(repeating: " ", count: $0) + "- x" }.joined(separator: "\n")
        let document = MarkdownDocument(nested + "\n\n" + String(repeating: "*a* ", count: 100_000))
        #expect(depth(document.json) <= 2 * MarkdownDocument.maxDepth + 4)
        #expect(document.json.serialized().utf8.count < 8 * MarkdownDocument.maxBytes)
    }

    private func depth(_ json: JSON) -> Int {
        switch json {
        case .array(let items): 1 + (items.map(depth).max() ?? 0)
        case .object(let fields): 1 + (fields.values.map(depth).max() ?? 0)
        default: 0
        }
    }
}
