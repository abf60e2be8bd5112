import ArgumentParser
import ZeroMQ

/// `koers doctor`: checks that this machine can run Koers.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the libzmq this machine has: version, CURVE and transports.")

    func run() throws {
        print("libzmq \(ZeroMQ.versionString)")
        var ok = true
        for capability in ["curve", "ipc"] {
            let has = ZeroMQ.has(capability)
            ok = ok && has
            print("  \(capability): \(has ? "yes" : "NO")")
        }
        do {
            try ZeroMQ.requireCurve()
            _ = try CurveKeyPair.generate()
            print("  CURVE key generation: ok")
        } catch {
            print("  CURVE key generation: \(error)")
            ok = false
        }
        if !ok { throw ExitCode(1) }
    }
}
