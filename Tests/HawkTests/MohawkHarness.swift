import Foundation
import Testing

/// Runs a small Python script that uses mohawk, an independent Hawk implementation from PyPI.
///
/// The interpreter is `python3` from PATH unless `PROVHOOK_TEST_PYTHON` names another (the project's test script
/// points it at a venv holding mohawk). Without mohawk the tests fail and say how to install it.
enum Mohawk {
    /// The mohawk version these tests were written against.
    static let pinnedVersion = "1.1.0"

    /// The interpreter the tests run.
    static var python: String {
        ProcessInfo.processInfo.environment["PROVHOOK_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
    }

    /// What the script reads on its standard input.
    private struct ScriptRequest<Cases: Encodable>: Encodable {
        let op: String
        let cases: Cases
    }

    /// Why the script could not give an answer.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends `cases` to the script's operation `operation` and decodes its JSON answer.
    static func run<Input: Encodable, Output: Decodable>(
        _ operation: String, cases: Input, as type: Output.Type
    ) throws -> Output {
        try self.run(JSONEncoder().encode(ScriptRequest(op: operation, cases: cases)), as: type)
    }

    /// The installed mohawk version.
    static func version() throws -> String {
        struct Answer: Decodable { let version: String }
        return try self.run(Data(#"{"op":"version"}"#.utf8), as: Answer.self).version
    }

    private static func run<Output: Decodable>(_ input: Data, as type: Output.Type) throws -> Output {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hawk-mohawk-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let scriptURL = directory.appendingPathComponent("interop.py")
        let stdinURL = directory.appendingPathComponent("input.json")
        let stdoutURL = directory.appendingPathComponent("output.json")
        let stderrURL = directory.appendingPathComponent("errors.txt")
        try Data(self.script.utf8).write(to: scriptURL)
        try input.write(to: stdinURL)
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)

        // Files rather than pipes, so that a chatty interpreter cannot fill a pipe and stall.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [self.python, scriptURL.path]
        process.standardInput = try FileHandle(forReadingFrom: stdinURL)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        process.waitUntilExit()
        let output = try Data(contentsOf: stdoutURL)
        let errors = String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self)
        switch process.terminationStatus {
        case 0:
            return try JSONDecoder().decode(type, from: output)
        case 3:
            throw Failure(
                description:
                    "mohawk cannot be imported by \(self.python) (\(String(decoding: output, as: UTF8.self))): "
                    + "install it with `\(self.python) -m pip install mohawk==\(self.pinnedVersion)`, or set "
                    + "PROVHOOK_TEST_PYTHON to an interpreter that has it")
        default:
            throw Failure(
                description: "\(self.python) exited with \(process.terminationStatus) (is it installed?): \(errors)")
        }
    }

    /// The script: `receive` verifies headers with `mohawk.Receiver`, `send` signs with `mohawk.Sender`, `tsm`
    /// recomputes a stale answer's tsm with mohawk and with plain hmac+hashlib.
    static let script = #"""
        import base64, hashlib, hmac, json, sys

        try:
            import mohawk
            from mohawk.base import EmptyValue
            from mohawk.util import calculate_ts_mac, parse_authorization_header
        except ImportError as error:
            print(json.dumps({"import_error": str(error)}))
            sys.exit(3)


        def content(case):
            if case.get("body") is None:
                return EmptyValue, EmptyValue
            return base64.b64decode(case["body"]), case.get("content_type") or ""


        def credentials(case):
            return {"id": case["id"], "key": case["key"], "algorithm": "sha256"}


        def receive(case):
            body, content_type = content(case)
            try:
                mohawk.Receiver(
                    lambda key_id: credentials(case) if key_id == case["id"] else None,
                    case["header"], case["url"], case["method"], content=body, content_type=content_type,
                    seen_nonce=lambda *args: False, localtime_offset_in_seconds=case.get("offset", 0))
                return {"accepted": True}
            except Exception as error:
                return {"accepted": False, "error": type(error).__name__,
                        "www_authenticate": getattr(error, "www_authenticate", None)}


        def send(case):
            body, content_type = content(case)
            sender = mohawk.Sender(
                credentials(case), case["url"], case["method"], content=body, content_type=content_type,
                always_hash_content=body is not EmptyValue, ext=case.get("ext"), _timestamp=case.get("ts"))
            return {"header": sender.request_header}


        def timestamp_mac(case):
            parsed = parse_authorization_header(case["header"])
            normalized = "hawk.1.ts\n{}\n".format(parsed["ts"]).encode("ascii")
            independent = base64.b64encode(hmac.new(case["key"].encode("utf-8"), normalized, hashlib.sha256).digest())
            by_mohawk = calculate_ts_mac(parsed["ts"], credentials(case))
            if isinstance(by_mohawk, bytes):
                by_mohawk = by_mohawk.decode("ascii")
            return {"ts": parsed["ts"], "tsm": parsed["tsm"], "error": parsed.get("error"),
                    "hmac": independent.decode("ascii"), "mohawk": by_mohawk}


        def version():
            from importlib.metadata import version as installed
            return {"version": installed("mohawk")}


        request = json.load(sys.stdin)
        operations = {"receive": receive, "send": send, "tsm": timestamp_mac}
        if request["op"] == "version":
            print(json.dumps(version()))
        else:
            print(json.dumps([operations[request["op"]](case) for case in request["cases"]]))
        """#
}
