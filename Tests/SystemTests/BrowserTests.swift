import Foundation
import Plan
import Testing
import ZeroMQ

/// The web pages in Debian's headless Chromium (selenium and chromedriver), against a
/// real aggregator fed by real theme services; screenshots are kept in the test's
/// output folder (`.build/test-output/browser/`).
@Suite("The web pages in a real browser", .serialized)
struct BrowserTests {
    static var outputFolder: String { repositoryRoot() + "/.build/test-output/browser" }

    @Test("every theme listed, live change within 2 s of the stream, acknowledging from the page, as-of equals koers status, lost connection shown")
    func pages() async throws {
        try await bounded(300, "the browser check") {
            let ws = try Workspace()
            try CurveKeyFile.write(try CurveKeyPair.generate(), identity: "operator:ops", directory: ws.keys)
            let (status, tokenOut) = try runKoers(["keys", "token", "operator:ops", "--keys", ws.keys])
            #expect(status == 0, "\(tokenOut)")
            let token = try #require(tokenOut.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.count >= 40 && !$0.contains(" ") })
            let aggregator = try ws.aggregator()
            let service = try ws.theme("safety")
            defer { service.stop(); aggregator.stop() }
            try eventually("the pages are served", within: 90) { try httpGet(ws.httpURL + "/").status == 200 }
            let names = try PlanLoader.loadDefault(path: nil).themes.map(\.name).joined(separator: "|")
            let (code, out) = try runProgram("/usr/bin/env", ["python3", repositoryRoot() + "/Tests/python/browser_check.py", ws.httpURL,
                                                              Self.outputFolder, try koersBinary(), ws.data, ws.keys, String(token),
                                                              String(aggregator.process.processIdentifier), names])
            #expect(code == 0, "\(out)")
            #expect(out.contains("browser check: ok"), "\(out)")
            for shot in ["overview", "overview-after-report", "wijken", "item", "alerts", "alerts-after-ack", "overview-as-of", "connection-lost"] {
                #expect(FileManager.default.fileExists(atPath: "\(Self.outputFolder)/\(shot).png"), "no screenshot \(shot).png")
            }
        }
    }

    @Test("during the demo scenario: every page's screenshot, the overview updating live and showing the aggregator's status")
    func demo() async throws {
        try await bounded(300, "the demo in a browser") {
            let dir = NSTemporaryDirectory() + "koers-demo-browser-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let address = "127.0.0.1:\(try ZeroMQ.unusedLoopbackPort())"
            let demo = try Child(["demo", "--seconds", "90", "--quiet", "--dir", dir + "/demo", "--http", address], log: dir + "/demo.log")
            defer { demo.stop() }
            try eventually("the demo's pages are served", within: 90) { try httpGet("http://\(address)/").status == 200 }
            let (code, out) = try runProgram("/usr/bin/env", ["python3", repositoryRoot() + "/Tests/python/demo_screens.py", "http://\(address)", Self.outputFolder])
            #expect(code == 0, "\(out)")
            #expect(out.contains("demo screens: ok"), "\(out)")
        }
    }
}
