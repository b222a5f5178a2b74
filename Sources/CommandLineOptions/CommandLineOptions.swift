import Foundation

/// A hand-written command-line parser for both executables: `--name value`, `--name=value`, flags,
/// and `--` to end options.
///
/// Small on purpose (no package dependencies); what it must get right is the error a user sees.
public struct OptionSpec: Sendable {
    public let name: String
    /// Nil for a flag; otherwise how the value is shown in help (`PATH`, `URI`).
    public let valueName: String?
    public let help: String
    /// May be given more than once (values accumulate).
    public var repeatable = false

    public init(name: String, valueName: String?, help: String, repeatable: Bool = false) {
        self.name = name
        self.valueName = valueName
        self.help = help
        self.repeatable = repeatable
    }
}

/// A command line that cannot be run as given; the message names the option and what to do.
public struct UsageError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}

public struct ParsedArguments {
    public private(set) var values: [String: [String]] = [:]
    public private(set) var flags: Set<String> = []
    public private(set) var positionals: [String] = []

    public func value(_ name: String) -> String? { values[name]?.last }
    public func has(_ name: String) -> Bool { flags.contains(name) || values[name] != nil }

    public static func parse(_ arguments: [String], options: [OptionSpec], command: String) throws -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        let byName = Dictionary(uniqueKeysWithValues: options.map { ($0.name, $0) })
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                parsed.positionals += arguments[index...]
                break
            }
            guard argument.hasPrefix("-"), argument != "-" else {
                parsed.positionals.append(argument)
                continue
            }
            var name = argument
            var inlineValue: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            if name == "-h" { name = "--help" }
            guard let spec = byName[name] else {
                var message = "\(command): unknown option '\(name)'."
                if let suggestion = closest(to: name, in: options.map(\.name)) {
                    message += " Did you mean \(suggestion)?"
                }
                throw UsageError(message: message + " See '\(command) --help'.")
            }
            if spec.valueName == nil {
                if inlineValue != nil { throw UsageError(message: "\(command): \(name) takes no value.") }
                parsed.flags.insert(name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else {
                    throw UsageError(message: "\(command): \(name) needs a value (\(name) \(spec.valueName!)).")
                }
                value = arguments[index]
                index += 1
            }
            if !spec.repeatable, parsed.values[name] != nil {
                throw UsageError(message: "\(command): \(name) is given more than once.")
            }
            parsed.values[name, default: []].append(value)
        }
        return parsed
    }

    /// The option within edit distance 2 of a mistyped one, if any.
    private static func closest(to name: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(Array(name), Array($0))) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    private static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// Renders the options table for `--help`.
public func helpText(for options: [OptionSpec]) -> String {
    let labels = options.map { spec in spec.valueName.map { "\(spec.name) \($0)" } ?? spec.name }
    let width = min((labels.map(\.count).max() ?? 0) + 2, 30)
    return zip(labels, options).map { label, spec in
        let padded =
            label.count >= width
            ? label + "\n" + String(repeating: " ", count: width + 2)
            : label.padding(toLength: width, withPad: " ", startingAt: 0)
        return "  " + padded
            + spec.help.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: width + 2))
    }.joined(separator: "\n")
}
