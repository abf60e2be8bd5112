import Testing
import ZeroMQ

@Suite("Loopback ports for tests and benchmarks")
struct LoopbackPortTests {
    @Test("ports handed out are free, below the ephemeral range, and never the same twice in one process")
    func distinct() throws {
        let ports = try (0..<200).map { _ in try ZeroMQ.unusedLoopbackPort() }
        #expect(Set(ports).count == ports.count)
        #expect(ports.allSatisfy { (20_000..<32_768).contains($0) })
        let context = try Context()
        defer { context.terminate() }
        let s = try context.socket(.pull)
        defer { s.close() }
        #expect(try s.bind("tcp://127.0.0.1:\(ports[0])").hasSuffix(":\(ports[0])"))
    }
}
