import ArgumentParser

/// `koers-bench`: the benchmark programs behind `make bench`.
///
/// `all` is the driver: it runs every role below as a separate process, beside the C
/// baseline (`Benchmarks/c/zmq_bench.c`), and prints each Swift figure as a ratio
/// against the C figure measured in the same run. The other subcommands are the roles,
/// speaking the same line protocol as the C program (`READY <endpoint>`, `RESULT …`).
@main
struct KoersBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "koers-bench",
        abstract: "Benchmarks of Koers against plain libzmq, measured in one run.",
        subcommands: [All.self, Role.self, MakePlan.self, MemoryProbe.self, ApplyProbe.self, Soak.self])
}

/// The wrapper API a role uses.
enum API: String, ExpressibleByArgument, CaseIterable {
    /// `Socket`: blocking calls on the calling thread.
    case sync
    /// `AsyncSocket`: the owner-thread bridge, used from async code.
    case async
}
