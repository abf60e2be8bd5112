import ArgumentParser
import ZeroMQ

/// `koers keys`: CURVE key pairs for theme services and the aggregator.
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate and inspect CURVE key pairs.",
        subcommands: [Generate.self, Show.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new key pair as NAME.key (public) and NAME.key_secret (mode 0600).")

        @Argument(help: "The identity the key authenticates as: a theme id, or `aggregator`.")
        var name: String

        @Option(name: .long, help: "Directory to write the key files to.")
        var dir: String = "keys"

        @Flag(name: .long, help: "Replace existing key files (key rotation).")
        var force = false

        func run() throws {
            let pair = try CurveKeyPair.generate()
            let paths = try CurveKeyFile.write(pair, identity: name, directory: dir, overwrite: force)
            print("public key  \(pair.publicKey.z85)")
            print("wrote       \(paths.publicPath)   (share: copy to the aggregator's keys directory)")
            print("wrote       \(paths.secretPath)   (secret: stays on this host)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the identity and public key in a key file, after checking it.")

        @Argument(help: "A .key or .key_secret file.")
        var file: String

        func run() throws {
            let key = try CurveKeyFile.read(file)
            print("identity    \(key.identity)")
            print("public key  \(key.publicKey.z85)")
            print("secret key  \(key.secretKey == nil ? "absent" : "present, matches the public key")")
        }
    }
}
