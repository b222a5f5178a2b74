import Foundation
import XCTest

@testable import Reporting

final class TemplateTests: XCTestCase {
    func testVariablesAreEscaped() throws {
        let template = try Template("<td title=\"{{name}}\">{{name}}</td>")
        XCTAssertEqual(
            try template.render(["name": "<b>&\"'x"]),
            "<td title=\"&lt;b&gt;&amp;&quot;&#39;x\">&lt;b&gt;&amp;&quot;&#39;x</td>")
    }

    func testQuoteWithCombiningMarkIsEscaped() throws {
        XCTAssertEqual(try Template("{{v}}").render(["v": "\"\u{301} onerror=x"]), "&quot;\u{301} onerror=x")
    }

    func testTripleBracesEmitOnlyMarkupTheCodeBuilt() throws {
        let template = try Template("{{{chart}}}|{{{name}}}|{{&name}}|{{chart}}")
        XCTAssertEqual(
            try template.render(["chart": .html("<svg></svg>"), "name": "<script>"]),
            "<svg></svg>|&lt;script&gt;|&lt;script&gt;|&lt;svg&gt;&lt;/svg&gt;")
    }

    func testSections() throws {
        let template = try Template(
            "{{#items}}[{{name}}{{#flag}}!{{/flag}}]{{/items}}{{#on}}yes{{/on}}{{#off}}no{{/off}}{{#text}}<{{.}}>{{/text}}{{#empty}}E{{/empty}}{{#missing}}M{{/missing}}"
        )
        let context: TemplateValue = [
            "items": [["name": "a", "flag": true], ["name": "b"]],
            "on": true, "off": false, "text": "t", "empty": "",
        ]
        XCTAssertEqual(try template.render(context), "[a!][b]yes<t>")
        XCTAssertEqual(try template.render(["items": []]), "")
    }

    func testInvertedSections() throws {
        let template = try Template(
            "{{^items}}none{{/items}}{{^flag}}off{{/flag}}{{^missing}}absent{{/missing}}{{^name}}no name{{/name}}")
        XCTAssertEqual(try template.render(["items": [], "flag": false, "name": "x"]), "noneoffabsent")
        XCTAssertEqual(try template.render(["items": ["a"], "flag": true, "missing": "here", "name": ""]), "no name")
    }

    func testDottedNamesAndOuterContext() throws {
        let template = try Template("{{a.b.c}} {{#list}}{{name}}@{{domain}} {{/list}}{{a.x.c}}|{{#a}}{{b.c}}{{/a}}")
        let context: TemplateValue = [
            "a": ["b": ["c": "deep"]], "domain": "corp.example", "list": [["name": "WKS-0042$"]],
        ]
        XCTAssertEqual(try template.render(context), "deep WKS-0042$@corp.example |deep")
    }

    func testCommentsVanish() throws {
        XCTAssertEqual(try Template("a{{! a comment {with braces} }}b{{!\nmulti\nline}}c").render([:]), "abc")
    }

    func testPartialsRenderInTheCurrentContext() throws {
        let template = try Template(
            "<ul>{{#rows}}{{> row}}{{/rows}}</ul>",
            partials: ["row": "<li>{{name}}{{> badge}}</li>", "badge": "({{sev}})"])
        XCTAssertEqual(
            try template.render(["rows": [["name": "<x>", "sev": "high"], ["name": "y", "sev": "low"]]]),
            "<ul><li>&lt;x&gt;(high)</li><li>y(low)</li></ul>")
    }

    func testPartialsLoadFromTheTemplatesFolder() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "A{{> part}}C".write(to: directory.appendingPathComponent("main.html"), atomically: true, encoding: .utf8)
        try "{{value}}".write(to: directory.appendingPathComponent("part.html"), atomically: true, encoding: .utf8)
        let template = try Template(contentsOf: directory.appendingPathComponent("main.html"))
        XCTAssertEqual(try template.render(["value": "B"]), "ABC")
        XCTAssertEqual(try template.render(["value": "b"]), "AbC", "parsed once, rendered many times")
    }

    func testSelfIncludingPartialStopsWithAnError() throws {
        let template = try Template("{{> loop}}", partials: ["loop": "x{{> loop}}"])
        XCTAssertThrowsError(try template.render([:])) { error in
            XCTAssertEqual((error as? TemplateError)?.code, .partialsTooDeep)
        }
    }

    // MARK: errors name file, line and column

    func testUnclosedSection() {
        assertError("<p>\n  {{#rules}}\n{{name}}\n", .unclosedSection, line: 2, column: 3, mentions: "{{/rules}}")
    }

    func testMismatchedCloseTag() {
        assertError("{{#a}}\n{{#b}}x{{/a}}{{/b}}", .mismatchedCloseTag, line: 2, column: 8, mentions: "{{/b}}")
        assertError("ok\n\n   {{/a}}", .mismatchedCloseTag, line: 3, column: 4, mentions: "closes nothing")
    }

    func testUnclosedTag() {
        assertError("line one\nab {{name\n", .unclosedTag, line: 2, column: 4, mentions: "}}")
        assertError("{{name {{other}}", .unclosedTag, line: 1, column: 1, mentions: "}}")
        assertError("x{{{raw}}", .unclosedTag, line: 1, column: 2, mentions: "}}}")
    }

    func testUnknownPartial() {
        assertError("a\nb {{> nowhere}}", .unknownPartial, line: 2, column: 3, mentions: "nowhere")
    }

    func testUnknownPartialInsideAPartialNamesThatFile() {
        XCTAssertThrowsError(try Template("{{> outer}}", file: "report.html", partials: ["outer": "\n {{> inner}}"])) {
            error in
            let error = error as? TemplateError
            XCTAssertEqual(error?.code, .unknownPartial)
            XCTAssertEqual(error?.file, "outer")
            XCTAssertEqual(error?.line, 2)
            XCTAssertEqual(error?.column, 2)
        }
    }

    func testInvalidNames() {
        assertError("{{}}", .invalidName, line: 1, column: 1, mentions: "empty")
        assertError("{{a b}}", .invalidName, line: 1, column: 1, mentions: "'a b'")
        assertError("{{a..b}}", .invalidName, line: 1, column: 1, mentions: "a..b")
        assertError("{{=<% %>=}}", .unsupportedTag, line: 1, column: 1, mentions: "delimiters")
    }

    func testErrorDescriptionPointsAtTheFile() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("report.html")
        try "<h1>\n{{#sections}}".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Template(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".hasPrefix("report.html:2:1: {{#sections}} is never closed"), "\(error)")
        }
        XCTAssertThrowsError(try Template(contentsOf: directory.appendingPathComponent("absent.html"))) { error in
            XCTAssertEqual((error as? TemplateError)?.code, .unreadableFile)
        }
    }

    private func assertError(
        _ text: String, _ code: TemplateError.Code, line: Int, column: Int, mentions: String,
        file: StaticString = #filePath, sourceLine: UInt = #line
    ) {
        XCTAssertThrowsError(try Template(text, file: "t.html"), file: file, line: sourceLine) { error in
            guard let error = error as? TemplateError else {
                XCTFail("not a TemplateError: \(error)", file: file, line: sourceLine)
                return
            }
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: sourceLine)
            XCTAssertEqual(error.file, "t.html", file: file, line: sourceLine)
            XCTAssertEqual(error.line, line, "\(error)", file: file, line: sourceLine)
            XCTAssertEqual(error.column, column, "\(error)", file: file, line: sourceLine)
            XCTAssertTrue(error.description.contains(mentions), "\(error)", file: file, line: sourceLine)
            XCTAssertTrue(
                error.description.hasPrefix("t.html:\(line):\(column): "), "\(error)", file: file, line: sourceLine)
        }
    }
}
