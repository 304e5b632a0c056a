import Foundation
import Testing
import _TestSupport

/// Runs the built `videossl` executable (it sits next to the test bundle) and collects its output.
func runVideoSSL(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let executable = try #require(builtExecutable(named: "videossl"), "videossl not found; build it with `swift build --build-tests`")
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
