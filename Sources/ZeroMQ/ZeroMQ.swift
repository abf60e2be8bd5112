import CZeroMQ

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

    /// A TCP port on 127.0.0.1 that is free now (bound to `*` and let go), for tests,
    /// benchmarks and the demo, which need fixed endpoints across process restarts.
    /// Another process may take it before it is used; loopback only.
    public static func unusedLoopbackPort() throws(ZMQError) -> Int {
        let context = try Context()
        defer { context.terminate() }
        let s = try context.socket(.pull)
        defer { s.close() }
        let endpoint = try s.bind("tcp://127.0.0.1:*")
        return Int(endpoint.split(separator: ":").last!)!
    }

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
