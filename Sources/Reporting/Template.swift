import Foundation
import UntrustedInput

/// A value to render: templates see only these, never model types, so a template cannot reach
/// anything the report code did not choose to show.
public enum TemplateValue: Sendable, Equatable {
    /// Text from anywhere, including the directory; always HTML-escaped when rendered.
    case string(String)
    case bool(Bool)
    case list([TemplateValue])
    case object([String: TemplateValue])
    /// Markup the report code built itself (the SVG charts). The only value `{{{name}}}` emits as is.
    case html(String)

    public static func number(_ value: Int) -> TemplateValue { .string(String(value)) }

    /// Sections render for true, non-empty lists and strings, and any object; missing names are false.
    var isTruthy: Bool {
        switch self {
        case .string(let text), .html(let text): return !text.isEmpty
        case .bool(let flag): return flag
        case .list(let items): return !items.isEmpty
        case .object: return true
        }
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByIntegerLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    public init(integerLiteral value: Int) { self = .number(value) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// A template that cannot be used, with where it is: `report.html:12:5: ...`.
///
/// Equality compares the code only; tests check `line` and `column` separately.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unreadableFile = "unreadable-file"
        /// `{{` without its `}}` (or `{{{` without `}}}`).
        case unclosedTag = "unclosed-tag"
        /// `{{#name}}` or `{{^name}}` never closed.
        case unclosedSection = "unclosed-section"
        /// `{{/name}}` that does not close the innermost open section, or closes nothing.
        case mismatchedCloseTag = "mismatched-close-tag"
        /// `{{> name}}` with no `name.html` beside the template.
        case unknownPartial = "unknown-partial"
        /// An empty tag or a name with characters other than letters, digits, `_`, `-` and `.`.
        case invalidName = "invalid-name"
        /// A tag this subset does not support (`{{=<% %>=}}` delimiter changes).
        case unsupportedTag = "unsupported-tag"
        /// Partials including each other deeper than `Template.maximumPartialDepth`.
        case partialsTooDeep = "partials-too-deep"
    }

    public let code: Code
    public let file: String
    /// 1-based; 0 when the problem is the file itself.
    public let line: Int
    public let column: Int
    public let reason: String

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(reason)" : "\(file): \(reason)"
    }

    public static func == (lhs: TemplateError, rhs: TemplateError) -> Bool { lhs.code == rhs.code }
}

/// A parsed Mustache-subset template: `{{name}}`, `{{{name}}}`, `{{#section}}`, `{{^inverted}}`,
/// `{{/section}}`, `{{! comment}}`, `{{> partial}}`, dotted names and `{{.}}`.
///
/// Parsed once (every error is found at load time, before a long audit runs), rendered many times.
/// Escaping is by value type, not by tag: `{{name}}` always escapes, and `{{{name}}}` emits only
/// `.html` values unescaped; a `.string` is escaped even there. The templates are user-edited, and
/// this way no edit can turn a computer name written by an attacker into markup.
/// Standalone-line trimming from the Mustache spec is not done: HTML does not care about the blank
/// lines it leaves.
public struct Template: Sendable {
    /// Deep enough for any report layout, shallow enough to stop a partial that includes itself.
    public static let maximumPartialDepth = 32

    let file: String
    let nodes: [Node]
    /// Every partial reachable from this template, by name, already parsed.
    let partials: [String: PartialTemplate]

    /// Parses `url`; `{{> name}}` loads `name` plus this file's extension from the same folder.
    public init(contentsOf url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let fileExtension = url.pathExtension.isEmpty ? "" : "." + url.pathExtension
        let text: String
        do {
            text = try InputFile.readText(url.path, kind: "template", limit: InputFile.Limit.template)
        } catch {
            throw TemplateError(
                code: .unreadableFile, file: url.path, line: 0, column: 0,
                reason: error.code == .notFound
                    ? "cannot read the template; check that it exists and is readable" : error.reason)
        }
        try self.init(text, file: url.lastPathComponent) { name in
            let partialURL = folder.appendingPathComponent(name + fileExtension)
            return Self.read(partialURL).map { (text: $0, file: partialURL.lastPathComponent) }
        }
    }

    /// Parses `text`; partials come from `partials` (name to source text), for tests and built-in templates.
    public init(_ text: String, file: String = "template", partials: [String: String] = [:]) throws {
        try self.init(text, file: file) { name in partials[name].map { (text: $0, file: name) } }
    }

    private init(_ text: String, file: String, loadPartial: (String) -> (text: String, file: String)?) throws {
        self.file = file
        nodes = try TemplateParser(text: text, file: file).parse()
        var partials: [String: PartialTemplate] = [:]
        var pending = Self.partialReferences(in: nodes, file: file)
        while let reference = pending.popLast() {
            if partials[reference.name] != nil { continue }
            guard let source = loadPartial(reference.name) else {
                throw TemplateError(
                    code: .unknownPartial, file: reference.file, line: reference.line, column: reference.column,
                    reason:
                        "no partial '\(reference.name)'; create \(reference.name)\(Self.extensionOf(file)) beside \(file) or remove the {{> \(reference.name)}} tag"
                )
            }
            let partialNodes = try TemplateParser(text: source.text, file: source.file).parse()
            partials[reference.name] = PartialTemplate(file: source.file, nodes: partialNodes)
            pending += Self.partialReferences(in: partialNodes, file: source.file)
        }
        self.partials = partials
    }

    public func render(_ context: TemplateValue) throws -> String {
        var output = ""
        var stack = [context]
        try render(nodes, stack: &stack, into: &output, depth: 0)
        return output
    }

    private func render(_ nodes: [Node], stack: inout [TemplateValue], into output: inout String, depth: Int) throws {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .variable(let path, let raw):
                guard let value = Self.lookup(path, in: stack) else { continue }
                switch value {
                case .string(let text): output += HTML.escape(text)
                case .html(let markup): output += raw ? markup : HTML.escape(markup)
                case .bool(let flag): output += flag ? "true" : "false"
                case .list, .object: continue
                }
            case .section(let path, let inverted, let children):
                let value = Self.lookup(path, in: stack)
                let truthy = value?.isTruthy ?? false
                if inverted {
                    if !truthy { try render(children, stack: &stack, into: &output, depth: depth) }
                    continue
                }
                guard let value, truthy else { continue }
                if case .list(let items) = value {
                    for item in items {
                        stack.append(item)
                        try render(children, stack: &stack, into: &output, depth: depth)
                        stack.removeLast()
                    }
                } else {
                    stack.append(value)
                    try render(children, stack: &stack, into: &output, depth: depth)
                    stack.removeLast()
                }
            case .partial(let name, let location):
                // Every reference was resolved at load time.
                guard let partial = partials[name] else { continue }
                guard depth < Self.maximumPartialDepth else {
                    throw TemplateError(
                        code: .partialsTooDeep, file: location.file, line: location.line, column: location.column,
                        reason:
                            "partials nest deeper than \(Self.maximumPartialDepth) levels at {{> \(name)}}; a partial probably includes itself"
                    )
                }
                try render(partial.nodes, stack: &stack, into: &output, depth: depth + 1)
            }
        }
    }

    /// Mustache lookup: the first name is searched from the innermost context outwards; the rest
    /// must then resolve inside what was found (no further search), as the spec says.
    static func lookup(_ path: [String], in stack: [TemplateValue]) -> TemplateValue? {
        guard let first = path.first else { return stack.last }
        for context in stack.reversed() {
            guard case .object(let fields) = context, var value = fields[first] else { continue }
            for name in path.dropFirst() {
                guard case .object(let inner) = value, let next = inner[name] else { return nil }
                value = next
            }
            return value
        }
        return nil
    }

    private static func partialReferences(in nodes: [Node], file: String) -> [(
        name: String, file: String, line: Int, column: Int
    )] {
        var references: [(name: String, file: String, line: Int, column: Int)] = []
        for node in nodes {
            switch node {
            case .partial(let name, let location):
                references.append((name, location.file, location.line, location.column))
            case .section(_, _, let children): references += partialReferences(in: children, file: file)
            case .text, .variable: break
            }
        }
        // popLast takes from the end: reverse so the first reference in the file is checked first.
        return references.reversed()
    }

    private static func extensionOf(_ file: String) -> String {
        let ext = (file as NSString).pathExtension
        return ext.isEmpty ? "" : "." + ext
    }

    /// A partial's text; nil when there is no such file. One that exists but is not a regular file
    /// or is too large is also nil here, and then reported as the missing partial it is to the renderer.
    private static func read(_ url: URL) -> String? {
        try? InputFile.readText(url.path, kind: "template", limit: InputFile.Limit.template)
    }
}

struct PartialTemplate: Sendable {
    let file: String
    let nodes: [Node]
}

struct SourceLocation: Sendable, Equatable {
    let file: String
    let line: Int
    let column: Int
}

indirect enum Node: Sendable {
    case text(String)
    /// A dotted name split at the dots; empty for `{{.}}`.
    case variable([String], raw: Bool)
    case section([String], inverted: Bool, [Node])
    case partial(String, SourceLocation)
}

/// Turns template text into nodes, tracking line and column so every error points at its tag.
struct TemplateParser {
    let characters: [Character]
    let file: String

    init(text: String, file: String) {
        characters = Array(text)
        self.file = file
    }

    private struct OpenSection {
        let name: String
        let path: [String]
        let inverted: Bool
        let location: SourceLocation
        var parentNodes: [Node]
    }

    func parse() throws -> [Node] {
        var nodes: [Node] = []
        var open: [OpenSection] = []
        var index = 0
        var textStart = 0
        // Line and column are advanced incrementally: the parser only ever moves forward.
        var line = 1
        var column = 1
        var counted = 0
        func location(of position: Int) -> SourceLocation {
            while counted < position {
                if characters[counted].isNewline {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
                counted += 1
            }
            return SourceLocation(file: file, line: line, column: column)
        }
        func fail(_ code: TemplateError.Code, at location: SourceLocation, _ reason: String) -> TemplateError {
            TemplateError(code: code, file: location.file, line: location.line, column: location.column, reason: reason)
        }

        let count = characters.count
        while index < count {
            guard characters[index] == "{", index + 1 < count, characters[index + 1] == "{" else {
                index += 1
                continue
            }
            if textStart < index { nodes.append(.text(String(characters[textStart..<index]))) }
            let tagLocation = location(of: index)
            let triple = index + 2 < count && characters[index + 2] == "{"
            let contentStart = index + (triple ? 3 : 2)
            let closer: [Character] = triple ? ["}", "}", "}"] : ["}", "}"]
            guard let contentEnd = find(closer, from: contentStart) else {
                throw fail(
                    .unclosedTag, at: tagLocation, "\(triple ? "{{{" : "{{") is never closed; add \(String(closer))")
            }
            let content = String(characters[contentStart..<contentEnd])
            if content.contains("{{") {
                throw fail(
                    .unclosedTag, at: tagLocation,
                    "\(triple ? "{{{" : "{{") is not closed before the next {{; add \(String(closer))")
            }
            index = contentEnd + closer.count
            textStart = index

            let sigil = triple ? nil : content.first
            let body = (sigil.map { "!#^/>&=".contains($0) } ?? false) ? String(content.dropFirst()) : content
            let name = body.trimmingCharacters(in: .whitespaces)
            if sigil == "!" { continue }
            if sigil == "=" {
                throw fail(
                    .unsupportedTag, at: tagLocation, "changing delimiters ({{=...=}}) is not supported; keep {{ and }}"
                )
            }
            let path = try self.path(name, at: tagLocation, fail: fail)
            switch sigil {
            case "#", "^":
                open.append(
                    OpenSection(
                        name: name, path: path, inverted: sigil == "^", location: tagLocation, parentNodes: nodes))
                nodes = []
            case "/":
                guard let section = open.popLast() else {
                    throw fail(
                        .mismatchedCloseTag, at: tagLocation,
                        "{{/\(name)}} closes nothing; remove it or add {{#\(name)}} before it")
                }
                guard section.name == name else {
                    throw fail(
                        .mismatchedCloseTag, at: tagLocation,
                        "{{/\(name)}} does not match the open {{\(section.inverted ? "^" : "#")\(section.name)}} from line \(section.location.line), column \(section.location.column); close that first with {{/\(section.name)}}"
                    )
                }
                let children = nodes
                nodes = section.parentNodes
                nodes.append(.section(section.path, inverted: section.inverted, children))
            case ">":
                guard !name.contains("."), !name.isEmpty else {
                    throw fail(
                        .invalidName, at: tagLocation,
                        "partial name '\(name)' must be a file name without extension or dots")
                }
                nodes.append(.partial(name, tagLocation))
            case "&":
                nodes.append(.variable(path, raw: true))
            default:
                nodes.append(.variable(path, raw: triple))
            }
        }
        if textStart < count { nodes.append(.text(String(characters[textStart..<count]))) }
        if let section = open.last {
            throw fail(
                .unclosedSection, at: section.location,
                "{{\(section.inverted ? "^" : "#")\(section.name)}} is never closed; add {{/\(section.name)}}")
        }
        return nodes
    }

    private func path(
        _ name: String, at location: SourceLocation, fail: (TemplateError.Code, SourceLocation, String) -> TemplateError
    ) throws -> [String] {
        if name == "." { return [] }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar))) || scalar == "_" || scalar == "-"
                || scalar == "."
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !name.isEmpty, allowed, !parts.contains(where: \.isEmpty) else {
            throw fail(
                .invalidName, location,
                name.isEmpty
                    ? "empty tag; put a name between the braces"
                    : "'\(name)' is not a name; use letters, digits, _, - and dots")
        }
        return parts
    }

    private func find(_ needle: [Character], from start: Int) -> Int? {
        var position = start
        while position + needle.count <= characters.count {
            if characters[position] == needle[0] && Array(characters[position..<position + needle.count]) == needle {
                return position
            }
            position += 1
        }
        return nil
    }
}

/// Escaping for text placed in HTML (and SVG) elements and quoted attributes.
enum HTML {
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else {
            return text
        }
        // Bytes, not Characters: `"` followed by a combining mark is one Character that is not `"`,
        // yet a browser still ends the attribute at it. Every escaped character is ASCII, and ASCII
        // bytes never occur inside a multi-byte sequence, so this escapes exactly those scalars.
        var text = text
        return text.withUTF8 { bytes in
            var result: [UInt8] = []
            result.reserveCapacity(bytes.count + 32)
            for byte in bytes {
                switch byte {
                case 0x26: result.append(contentsOf: [0x26, 0x61, 0x6D, 0x70, 0x3B])  // &amp;
                case 0x3C: result.append(contentsOf: [0x26, 0x6C, 0x74, 0x3B])  // &lt;
                case 0x3E: result.append(contentsOf: [0x26, 0x67, 0x74, 0x3B])  // &gt;
                case 0x22: result.append(contentsOf: [0x26, 0x71, 0x75, 0x6F, 0x74, 0x3B])  // &quot;
                case 0x27: result.append(contentsOf: [0x26, 0x23, 0x33, 0x39, 0x3B])  // &#39;
                default: result.append(byte)
                }
            }
            return String(decoding: result, as: UTF8.self)
        }
    }
}
