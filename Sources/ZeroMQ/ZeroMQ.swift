import CZeroMQ
import Synchronization

/// Facts about the libzmq this process is linked to.
public enum ZeroMQ {
    /// libzmq's version as (major, minor, patch).
    public static var version: (major: Int32, minor: Int32, patch: Int32) {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (major, minor, patch)
    }

    /// libzmq's version as text, e.g. `4.3.4`.
    public static var versionString: String {
        let v = version
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// Whether libzmq supports a capability (`curve`, `ipc`, …), per `zmq_has`.
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) == 1
    }

    /// A TCP port on 127.0.0.1 that is free now, for tests, benchmarks and the demo,
    /// which need fixed endpoints across process restarts; loopback only.
    ///
    /// Chosen below the kernel's ephemeral range (`ip_local_port_range`, 32768–60999 on
    /// Debian), and never the same twice in one process: a port that `bind(*)` handed
    /// out and let go could be handed out again to the next caller, or taken as the
    /// local end of any outgoing connection, before the process meant to listen on it
    /// had bound it — with a hundred ports per test run that happened (an aggregator
    /// that could not bind, and the test talking to another test's server). Another
    /// program may still take it before it is used.
    public static func unusedLoopbackPort() throws(ZMQError) -> Int {
        for _ in 0..<1_000 {
            let port = Int.random(in: 20_000..<32_768)
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            if isLoopbackPortFree(port) { return port }
        }
        throw ZMQError(code: .addressInUse, operation: "bind", message: "no free loopback port found in 20000-32767 after 1,000 tries")
    }

    /// The ports ``unusedLoopbackPort()`` has handed out in this process.
    private static let handedOut = Mutex<Set<Int>>([])

    /// Whether a loopback TCP port can be bound now.
    public static func isLoopbackPortFree(_ port: Int) -> Bool {
        guard let context = try? Context() else { return false }
        defer { context.terminate() }
        guard let s = try? context.socket(.pull) else { return false }
        defer { s.close() }
        return (try? s.bind("tcp://127.0.0.1:\(port)")) != nil
    }

    /// Throws unless libzmq was built with CURVE (libsodium); Koers refuses to run without it.
    public static func requireCurve() throws(ZMQError) {
        guard has("curve") else {
            throw ZMQError(
                code: .missingCapability, operation: "zmq_has(\"curve\")",
                message: "libzmq \(versionString) was built without CURVE security; install Debian's libzmq5 (built with libsodium) via `apt-get install libzmq3-dev`")
        }
    }
}
