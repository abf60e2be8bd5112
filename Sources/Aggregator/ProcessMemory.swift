import Foundation

/// The process's memory as the system sees it.
public enum ProcessMemory {
    /// Gives memory the allocator holds but no longer uses back to the system.
    ///
    /// Reading a large plan builds a YAML tree several times the size of the plan it
    /// yields, and a large plan's first start raises a burst of alerts; glibc keeps the
    /// freed pages in its arenas unless asked, and they would count as resident for the
    /// whole run. glibc's `malloc_trim` is not in Swift's Glibc module: looked up by name.
    public static func releaseFreed() {
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }

    /// Caps glibc's malloc arenas. glibc gives threads arenas of their own, up to eight
    /// per core; freed memory scattered over many arenas is hard to give back. The
    /// aggregator's threads mostly wait on sockets, so a few arenas cost no speed.
    public static func limitArenas(_ n: Int32) {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, n)  // M_ARENA_MAX
    }

    /// Resident memory (VmRSS) in MB, or 0 where /proc is not there.
    public static func residentMegabytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}
