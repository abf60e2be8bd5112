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

    /// The aggregator's allocator settings, made before it allocates much: two arenas,
    /// and blocks of 1 MB or more mapped on their own.
    public static func tuneAllocator() {
        limitArenas(2)
        fixMmapThreshold(1 << 20)
    }

    /// Caps glibc's malloc arenas. glibc gives threads arenas of their own, up to eight
    /// per core; freed memory scattered over many arenas is hard to give back. The
    /// aggregator's threads mostly wait on sockets, so a few arenas cost no speed.
    public static func limitArenas(_ n: Int32) { mallopt(-8, n) }  // M_ARENA_MAX

    /// Fixes glibc's mmap threshold: a block of at least `bytes` is mapped on its own and
    /// given back to the system when freed.
    ///
    /// glibc starts at 128 kB but raises the threshold to the size of each mapped block
    /// freed, up to 32 MB: after a large plan's start-up (its arrays of 100,000 statuses
    /// and alerts) and the first snapshot (a 25,000-item document), every later block of up
    /// to 32 MB came from the heap, where freed memory stays resident. With the plan of
    /// 100,000 milestones the aggregator idled at 208 MB and held 250 MB after one
    /// snapshot; with the threshold fixed at 1 MB, 185 and 197 MB, and `rss_mb_100k` went
    /// from 271 to 204 MB (docs/benchmarks.md, "Start-up with a large plan"). A fixed
    /// threshold also turns the dynamic adjustment off. 1 MB rather than 128 kB: the
    /// ingest's per-batch arrays stay in the heap, where reusing them costs no system call.
    public static func fixMmapThreshold(_ bytes: Int32) { mallopt(-3, bytes) }  // M_MMAP_THRESHOLD

    /// glibc's `mallopt`, looked up by name like `malloc_trim` (not in Swift's Glibc module).
    private static func mallopt(_ parameter: Int32, _ value: Int32) {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(parameter, value)
    }

    /// Resident memory (VmRSS) in MB, or 0 where /proc is not there.
    public static func residentMegabytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}
