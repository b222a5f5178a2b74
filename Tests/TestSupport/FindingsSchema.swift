import Foundation
import XCTest

/// Validates findings.json documents against `docs/findings.schema.json` with Debian's
/// python3-jsonschema (Draft 2020-12), as a consumer of the file would.
///
///     TRUSTAUDIT_TEST_PYTHON=/usr/bin/python3   a Python 3 that can import jsonschema (probed otherwise)
///
/// Without one the test is skipped with the reason printed; under CI=true it fails.
public enum FindingsSchema {
    public static let schema = ExecutableRunner.repositoryRoot.appendingPathComponent("docs/findings.schema.json")

    /// Checks the schema itself against the 2020-12 metaschema, then each document; per document,
    /// the errors as `path: message` (empty when it is valid).
    public static func errors(in documents: [URL], file: StaticString = #filePath, line: UInt = #line) throws
        -> [String: [String]]
    {
        let python = try pythonWithJSONSchema(file: file, line: line)
        let script = """
            import json, sys
            from jsonschema import Draft202012Validator
            schema = json.load(open(sys.argv[1], encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
            validator = Draft202012Validator(schema)
            report = {}
            for path in sys.argv[2:]:
                with open(path, encoding="utf-8") as document:
                    instance = json.load(document)
                report[path] = sorted(
                    "/".join(str(part) for part in error.absolute_path) + ": " + error.message
                    for error in validator.iter_errors(instance))
            print(json.dumps(report))
            """
        let run = try ExecutableRunner.run(python, ["-c", script, schema.path] + documents.map(\.path))
        guard run.status == 0, let data = run.stdout.data(using: .utf8),
            let report = try JSONSerialization.jsonObject(with: data) as? [String: [String]]
        else {
            XCTFail("the schema check did not run: \(run.stderr)", file: file, line: line)
            return [:]
        }
        return report
    }

    /// Asserts that every document is valid, naming each error.
    public static func assertValid(_ documents: [URL], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertFalse(documents.isEmpty, file: file, line: line)
        let report = try errors(in: documents, file: file, line: line)
        XCTAssertEqual(report.count, documents.count, "not every document was checked", file: file, line: line)
        for (path, errors) in report.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(errors, [], "\(path) does not match docs/findings.schema.json", file: file, line: line)
        }
    }

    static func pythonWithJSONSchema(file: StaticString, line: UInt) throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        var candidates = ["/usr/bin/python3", "/usr/local/bin/python3"]
        if let configured = environment["TRUSTAUDIT_TEST_PYTHON"], !configured.isEmpty {
            candidates.insert(configured, at: 0)
        }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            let url = URL(fileURLWithPath: candidate)
            if (try? ExecutableRunner.run(url, ["-c", "from jsonschema import Draft202012Validator"]))?.status == 0 {
                return url
            }
        }
        throw RequiredTool.unavailable(
            "no python3 with jsonschema 4 (Draft 2020-12) among \(candidates) (apt-get install python3-jsonschema)",
            file: file, line: line)
    }
}
