import Foundation
import Testing
@testable import Plan

/// The compiled plan cache against real files in a temporary directory.
@Suite struct PlanCacheTests {
    /// A fresh directory holding a plan file and a cache directory, removed at the end.
    final class Scratch {
        let dir: String
        var cache: PlanCache { PlanCache(directory: dir + "/plan-cache") }
        var planFile: String { dir + "/plan.yaml" }

        init() throws {
            dir = NSTemporaryDirectory() + "koers-plan-cache-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: dir) }

        func write(_ text: String) throws { try text.write(toFile: planFile, atomically: true, encoding: .utf8) }

        /// The one cache file there is.
        func cacheFiles() throws -> [String] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: cache.directory)) ?? []
            return names.filter { $0.hasSuffix(".plan") }.sorted().map { cache.directory + "/" + $0 }
        }

        /// Rewrites the cache file's bytes.
        func damage(_ change: (inout [UInt8]) -> Void) throws {
            let file = try #require(try cacheFiles().first)
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            change(&bytes)
            try Data(bytes).write(to: URL(fileURLWithPath: file))
        }
    }

    /// A plan with every kind of field: `count` milestones over two themes, with
    /// checkpoints, dependencies, areas, notes, funding, indicators and a revision.
    static func generated(milestones count: Int) -> String {
        var out = minimalPlan.replacingOccurrences(of: "themes:\n", with: """
            revisions:
              - version: 2
                date: 2023-03-01
                reason: Later start
                changes:
                  - { item: a, field: start, from: 2021-12-01, to: 2022-01-01 }
            themes:

            """)
        out += "\n  - id: work\n    name: Work\n    leefgebieden: [leren]\n    heartbeat: P2W\n    goals:\n"
        out += "      - id: wg\n        name: Work goal\n        interventions:\n"
        for i in 0..<count where i % 50 == 0 {
            out += "          - id: wi\(i)\n            name: \"Intervention \(i): ëën\"\n            owner: gemeente\n"
            out += "            partners: [gemeente]\n            description: Long text \(i)\n            milestones:\n"
            for m in i..<min(i + 50, count) {
                out += "              - { id: wm\(m), name: \"Milestone \(m)\", kind: quantitative, baseline: \(m % 7), target: \(100 + m).5, "
                out += "unit: woningen, start: 2022-02-01, due: 2030-0\(1 + m % 9)-15, cadence: P\(1 + m % 3)M"
                if m % 3 == 0 { out += ", checkpoints: [{ date: 2025-01-01, value: \(m % 7 + 1).25 }]" }
                if m % 5 == 1 { out += ", depends-on: [wm\(m - 1)]" }
                if m % 4 == 0 { out += ", areas: [gms], note: \"why \(m)\"" }
                out += " }\n"
            }
        }
        out += "        indicators:\n"
        out += "          - { id: wx, name: WX, unit: \"%\", direction: lower-is-better, baseline: { value: 9.5, year: 2019 }, "
        out += "references: { nederland: 4.1, heerlen: 7 }, target: { value: 4.1, year: 2047, basis: threshold }, cadence: P1Y, "
        out += "source: { name: CBS, url: \"https://example.org/cbs\" } }\n"
        return out
    }

    @Test func builtInPlanFromTheCacheEqualsTheParsedOne() throws {
        let s = try Scratch()
        let parsed = try PlanLoader.loadDefault(path: nil)
        let first = try s.cache.load(path: nil)
        guard case .missed = first.outcome else { Issue.record("first load: \(first.outcome)"); return }
        #expect(first.plan == parsed)
        let second = try s.cache.load(path: nil)
        guard case .hit = second.outcome else { Issue.record("second load: \(second.outcome)"); return }
        #expect(second.plan == parsed)
        #expect(second.plan.milestones.count == parsed.milestones.count && parsed.milestones.count > 10)
    }

    @Test func largeGeneratedPlanFromTheCacheEqualsTheParsedOne() throws {
        let s = try Scratch()
        try s.write(Self.generated(milestones: 5_000))
        let parsed = try PlanLoader.load(path: s.planFile)
        #expect(parsed.milestones.count == 5_002)
        _ = try s.cache.load(path: s.planFile)
        let cached = try s.cache.load(path: s.planFile)
        guard case .hit = cached.outcome else { Issue.record("\(cached.outcome)"); return }
        #expect(cached.plan == parsed)
        // The same plan always gives the same bytes (references are written sorted).
        let hash = PlanCache.sha256(try Data(contentsOf: URL(fileURLWithPath: s.planFile)))
        #expect(PlanCache.encode(parsed, source: hash) == PlanCache.encode(cached.plan, source: hash))
    }

    @Test func aChangedFileMissesTheCacheAndReplacesIt() throws {
        let s = try Scratch()
        try s.write(minimalPlan)
        _ = try s.cache.load(path: s.planFile)
        let before = try s.cacheFiles()
        try s.write(minimalPlan.replacingOccurrences(of: "name: Test programme", with: "name: Renamed programme"))
        let changed = try s.cache.load(path: s.planFile)
        guard case .missed(let file) = changed.outcome else { Issue.record("\(changed.outcome)"); return }
        #expect(changed.plan.programme.name == "Renamed programme")
        #expect(try s.cacheFiles() == [file])
        #expect(before.count == 1 && before != [file])
    }

    @Test(arguments: [
        ("truncated", 1),  // the last byte cut off
        ("checksum", 2),  // a payload byte flipped
        ("header", 3),  // only part of the header left
        ("hash", 4),  // the header names another file's hash
    ])
    func aDamagedCacheIsNotTrusted(expected: String, how: Int) throws {
        let s = try Scratch()
        try s.write(minimalPlan)
        let parsed = try PlanLoader.load(path: s.planFile)
        _ = try s.cache.load(path: s.planFile)
        try s.damage { b in
            switch how {
            case 1: b.removeLast()
            case 2: b[PlanCache.headerSize + 10] ^= 0xFF
            case 3: b = Array(b[0..<20])
            default: b[20] ^= 0x01
            }
        }
        let damaged = try s.cache.load(path: s.planFile)
        guard case .damaged(_, let reason) = damaged.outcome else { Issue.record("\(damaged.outcome)"); return }
        #expect(reason.contains(expected), "\(reason)")
        #expect(damaged.plan == parsed)
        // Rewritten: the next load is a hit.
        let next = try s.cache.load(path: s.planFile)
        guard case .hit = next.outcome else { Issue.record("\(next.outcome)"); return }
    }

    @Test func aCacheOfAnotherFormatVersionIsIgnoredAndRewritten() throws {
        let s = try Scratch()
        try s.write(minimalPlan)
        _ = try s.cache.load(path: s.planFile)
        try s.damage { b in b[8] = UInt8(truncatingIfNeeded: PlanCache.formatVersion + 1) }
        let other = try s.cache.load(path: s.planFile)
        #expect(other.outcome == .otherVersion(file: try #require(try s.cacheFiles().first), version: PlanCache.formatVersion + 1))
        let next = try s.cache.load(path: s.planFile)
        guard case .hit = next.outcome else { Issue.record("\(next.outcome)"); return }
    }

    @Test(arguments: [
        minimalPlan.replacingOccurrences(of: "due: 2023-01-01", with: "due: 2021-01-01"),
        minimalPlan.replacingOccurrences(of: "owner: gemeente", with: "owner: gemeent"),
        minimalPlan.replacingOccurrences(of: "  id: p\n", with: "  id: p\n  id: q\n"),
        "koers-plan: [1",
        "",
    ])
    func badYAMLGetsExactlyTheLoadersErrorsAndNoCache(text: String) throws {
        let s = try Scratch()
        try s.write(text)
        let expected: PlanError
        do { _ = try PlanLoader.load(path: s.planFile); Issue.record("the plan loaded"); return } catch { expected = error }
        do {
            _ = try s.cache.load(path: s.planFile)
            Issue.record("the cache loaded a bad plan")
        } catch {
            #expect(error.diagnostics == expected.diagnostics)
            #expect(error.description == expected.description)
        }
        #expect(try s.cacheFiles().isEmpty)
    }

    @Test func aMissingFileGetsTheLoadersError() throws {
        let s = try Scratch()
        let missing = s.dir + "/nothing.yaml"
        var expected: [PlanDiagnostic] = []
        do { _ = try PlanLoader.load(path: missing) } catch { expected = error.diagnostics }
        #expect(expected.count == 1)
        do {
            _ = try s.cache.load(path: missing)
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.diagnostics == expected)
        }
    }

    @Test func aPayloadThatDoesNotDecodeThrowsAndNeverTraps() throws {
        var w = CacheWriter()
        try PlanLoader.load(yaml: minimalPlan, file: "t.yaml").write(to: &w)
        let payload = w.payload
        // Every prefix of a valid payload is refused with a reason.
        for cut in stride(from: 0, to: payload.count, by: 7) {
            do throws(CacheFormatError) {
                var r = try CacheReader(Array(payload[0..<cut]))
                _ = try Plan.read(from: &r)
                Issue.record("a payload cut at \(cut) of \(payload.count) decoded")
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
    }
}
