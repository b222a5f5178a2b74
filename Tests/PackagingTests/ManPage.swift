import Foundation
import TestSupport

/// docs/trustaudit.1 read the way the tests need it: sections, the tags of its `.TP` lists and
/// its example blocks, as the text a reader sees (roff escapes and font changes removed).
///
/// Only what the page uses is understood: the man(7) macros below, `\-`, `\e`, `\&`, `\~`, `\%`,
/// `\(or` and `\fX`. Anything else is kept as written, so a test that looks for it fails loudly.
struct ManPage {
    static let path = ExecutableRunner.repositoryRoot.appendingPathComponent("docs/trustaudit.1")

    /// One `.SH` section: its name and its lines, comments left out.
    struct Section {
        var name: String
        var lines: [String]
    }

    let source: String
    let sections: [Section]

    init(contentsOf url: URL = ManPage.path) throws {
        source = try String(contentsOf: url, encoding: .utf8)
        var sections: [Section] = []
        for line in source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(".\\\"") { continue }
            if line.hasPrefix(".SH ") {
                sections.append(Section(name: Self.text(ofMacroLine: line), lines: []))
            } else if !sections.isEmpty {
                sections[sections.count - 1].lines.append(line)
            }
        }
        self.sections = sections
    }

    func section(_ name: String) -> Section? { sections.first { $0.name == name } }

    /// The `.TP` tags of a section as shown, grouped by the `.SS` subsection they are in ("" before the first).
    func tags(in sectionName: String) -> [(subsection: String, tag: String)] {
        guard let lines = section(sectionName)?.lines else { return [] }
        var tags: [(String, String)] = []
        var subsection = ""
        for (index, line) in lines.enumerated() {
            if line.hasPrefix(".SS ") { subsection = Self.text(ofMacroLine: line) }
            if line == ".TP", index + 1 < lines.count {
                tags.append((subsection, Self.text(ofMacroLine: lines[index + 1])))
            }
        }
        return tags
    }

    /// Every `.EX` ... `.EE` block, each line as shown.
    var examples: [[String]] {
        var blocks: [[String]] = []
        var current: [String]?
        for line in sections.flatMap(\.lines) {
            if line == ".EX" {
                current = []
            } else if line == ".EE" {
                if let current { blocks.append(current) }
                current = nil
            } else if current != nil {
                current!.append(Self.plain(line))
            }
        }
        return blocks
    }

    /// The whole page as shown, one source line per line.
    var text: String {
        sections.flatMap {
            [$0.name] + $0.lines.map { line in line.hasPrefix(".") ? Self.text(ofMacroLine: line) : Self.plain(line) }
        }
        .joined(separator: "\n")
    }

    /// A macro line as shown: `.BI \-\-ldif " FILE"` is `--ldif FILE`. The alternating-font macros
    /// (BI, BR, IR, RB, RI, IB) join their arguments without a space, the others with one.
    static func text(ofMacroLine line: String) -> String {
        guard line.hasPrefix(".") else { return plain(line) }
        let body = line.dropFirst()
        let macro = body.prefix { $0 != " " }
        let arguments = arguments(String(body.dropFirst(macro.count)))
        let alternating: Set<Substring> = ["BI", "BR", "IB", "IR", "RB", "RI"]
        return plain(arguments.joined(separator: alternating.contains(macro) ? "" : " "))
    }

    /// Macro arguments: split at spaces, double quotes group.
    static func arguments(_ text: String) -> [String] {
        var arguments: [String] = []
        var current = ""
        var quoted = false
        var started = false
        for character in text {
            if character == "\"" {
                quoted.toggle()
                started = true
            } else if character == " " && !quoted {
                if started { arguments.append(current) }
                current = ""
                started = false
            } else {
                current.append(character)
                started = true
            }
        }
        if started { arguments.append(current) }
        return arguments
    }

    /// Text with the page's roff escapes resolved.
    static func plain(_ roff: String) -> String {
        var result = ""
        var characters = roff.makeIterator()
        while let character = characters.next() {
            guard character == "\\" else {
                result.append(character)
                continue
            }
            switch characters.next() {
            case "-": result.append("-")
            case "e": result.append("\\")
            case "&", "%": break
            case "~": result.append(" ")
            case "f": _ = characters.next()
            case "(":
                let name = String([characters.next(), characters.next()].compactMap { $0 })
                result.append(name == "or" ? "|" : "\\(" + name)
            case let other?: result.append("\\"); result.append(other)
            case nil: result.append("\\")
            }
        }
        return result
    }
}
