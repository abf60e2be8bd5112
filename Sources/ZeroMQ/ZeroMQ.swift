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

    /// Throws unless libzmq was built with CURVE (libsodium); Koers refuses to run without it.
    public static func requireCurve() throws(ZMQError) {
        guard has("curve") else {
            throw ZMQError(
                code: .missingCapability, operation: "zmq_has(\"curve\")",
                message: "libzmq \(versionString) was built without CURVE security; install Debian's libzmq5 (built with libsodium) via `apt-get install libzmq3-dev`")
        }
    }
}
