import CommandLineOptions

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// trustaudit-sample: writes a deterministic, realistic Active Directory export (and optionally an
/// inventory) for the demo, the tests and the benchmark. Same arguments, same bytes.
let optionSpecs = [
    OptionSpec(
        name: "--computers", valueName: "N",
        help: "computer accounts to write (domain controllers included), 1 to 100000000"),
    OptionSpec(
        name: "--seed", valueName: "S",
        help: "any unsigned 64-bit number (default 1); the same seed gives the same bytes"),
    OptionSpec(name: "--domain", valueName: "NAME", help: "the domain's DNS name (default corp.example)"),
    OptionSpec(
        name: "--now", valueName: "TIME",
        help: "the moment every age is relative to, UTC (default 2026-11-24T00:00:00Z)"),
    OptionSpec(
        name: "--format", valueName: "F",
        help: "ldapsearch (ldapsearch -LLL '*', LF) or ldifde (changetype: add, CRLF); default ldapsearch"),
    OptionSpec(
        name: "--inventory", valueName: "FILE", help: "also write an inventory (one machine name per line) to FILE"),
    OptionSpec(name: "--output", valueName: "FILE", help: "write the export to FILE instead of standard output"),
    OptionSpec(name: "--stats", valueName: nil, help: "print what was generated, per trait, to standard error"),
    OptionSpec(name: "--help", valueName: nil, help: "show this help"),
]

let usage = """
    usage: trustaudit-sample --computers N [--seed S] [--domain corp.example] [--now 2026-11-24T00:00:00Z]
                             [--format ldapsearch|ldifde] [--inventory FILE] [--output FILE] [--stats]

    \(helpText(for: optionSpecs))

    """

struct Options {
    var computers: Int?
    var seed: UInt64 = 1
    var domain = "corp.example"
    var now: Int64 = Clock.parseISO8601("2026-11-24T00:00:00Z")!
    var format = ExportFormat.ldapsearch
    var inventoryPath: String?
    var outputPath: String?
    var stats = false
}

/// Writes to standard error through its descriptor (the C `stderr` global is not concurrency-safe).
func printError(_ text: String) {
    var bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let result = bytes.withUnsafeMutableBytes {
            write(STDERR_FILENO, $0.baseAddress! + written, $0.count - written)
        }
        if result <= 0 { return }
        written += result
    }
}

func fail(_ message: String, code: Int32 = 64) -> Never {
    printError("trustaudit-sample: \(message)\n")
    exit(code)
}

func parseOptions(_ arguments: [String]) -> Options {
    let parsed: ParsedArguments
    do {
        parsed = try ParsedArguments.parse(arguments, options: optionSpecs, command: "trustaudit-sample")
    } catch {
        printError("\(error)\n")
        exit(64)
    }
    if parsed.has("--help") {
        print(usage, terminator: "")
        exit(0)
    }
    if let extra = parsed.positionals.first { fail("unexpected argument '\(extra)'\n\n\(usage)") }
    var options = Options()
    guard let text = parsed.value("--computers") else { fail("--computers is required\n\n\(usage)") }
    guard let count = Int(text), (1...100_000_000).contains(count) else {
        fail("--computers must be a whole number from 1 to 100000000, not '\(text)'")
    }
    options.computers = count
    if let text = parsed.value("--seed") {
        guard let seed = UInt64(text) else { fail("--seed must be an unsigned 64-bit number, not '\(text)'") }
        options.seed = seed
    }
    if let text = parsed.value("--domain")?.lowercased() {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2,
            labels.allSatisfy({ label in
                !label.isEmpty && label.utf8.count <= 63
                    && label.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
            })
        else { fail("--domain must be a DNS name such as corp.example, not '\(text)'") }
        options.domain = text
    }
    if let text = parsed.value("--now") {
        guard let now = Clock.parseISO8601(text) else {
            fail("--now must look like 2026-11-24T00:00:00Z, not '\(text)'")
        }
        options.now = now
    }
    if let text = parsed.value("--format") {
        guard let format = ExportFormat(rawValue: text) else {
            fail("--format must be ldapsearch or ldifde, not '\(text)'")
        }
        options.format = format
    }
    options.inventoryPath = parsed.value("--inventory")
    options.outputPath = parsed.value("--output")
    options.stats = parsed.has("--stats")
    return options
}

func openForWriting(_ path: String) -> Int32 {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if descriptor < 0 { fail("cannot write \(path): \(String(cString: strerror(errno)))", code: 73) }
    return descriptor
}

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
var domain = SampleDomain(
    computers: options.computers!, seed: options.seed, now: options.now, format: options.format, domain: options.domain)

let exportDescriptor = options.outputPath.map(openForWriting) ?? STDOUT_FILENO
let exportWriter = LDIFWriter(descriptor: exportDescriptor, crlf: options.format == .ldifde)
domain.writeExport(to: exportWriter)
if exportWriter.writeError != 0 {
    fail(
        "cannot write \(options.outputPath ?? "standard output"): \(String(cString: strerror(exportWriter.writeError)))",
        code: 74)
}
if options.outputPath != nil, close(exportDescriptor) != 0 {
    fail("cannot write \(options.outputPath!): \(String(cString: strerror(errno)))", code: 74)
}

var inventoryCounts: (names: Int, withoutAccount: Int)?
if let path = options.inventoryPath {
    let descriptor = openForWriting(path)
    let writer = LDIFWriter(descriptor: descriptor, crlf: false)
    inventoryCounts = domain.writeInventory(to: writer)
    if writer.writeError != 0 || close(descriptor) != 0 {
        fail(
            "cannot write \(path): \(String(cString: strerror(writer.writeError != 0 ? writer.writeError : errno)))",
            code: 74)
    }
}

if options.stats {
    var report =
        "trustaudit-sample: \(options.computers!) computers, seed \(options.seed), \(exportWriter.bytesWritten) bytes\n"
    for trait in ComputerPlan.Trait.allCases where domain.tally[trait.rawValue] > 0 {
        report += "  \(trait.label): \(domain.tally[trait.rawValue])\n"
    }
    if let inventoryCounts {
        report +=
            "  inventory names: \(inventoryCounts.names), of which without an account: \(inventoryCounts.withoutAccount)\n"
    }
    printError(report)
}
