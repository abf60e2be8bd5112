import Foundation
import Testing

/// A large plan is parsed in a child process (`koers plan compile`), never in the
/// aggregator's own, so that the parse's memory is not the aggregator's for its whole
/// life (`docs/plan-format.md`, "The compiled plan cache").
@Suite("Compiling a plan apart from the aggregator", .serialized)
struct PlanCompileTests {
    /// The built-in plan with over a megabyte of comment after it: still the same plan,
    /// but a file large enough to be compiled apart.
    static func largePlan(in dir: String) throws -> String {
        var yaml = try String(contentsOf: repoRoot.appendingPathComponent("plans/nphln.yaml"), encoding: .utf8)
        yaml += "\n" + String(repeating: "# opvulling: een groot plan, voor de test van het compileren apart\n", count: 20_000)
        let path = dir + "/large-plan.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a large plan the cache lacks is compiled by a child process, and the aggregator reads it from the cache")
    func childCompiles() async throws {
        try await bounded(120, "compiling apart") {
            let ws = try Workspace()
            let plan = try Self.largePlan(in: ws.dir)
            #expect(((try FileManager.default.attributesOfItem(atPath: plan))[.size] as? Int ?? 0) > 1 << 20)
            var aggregator = try ws.aggregator(["--plan", plan])
            let log = ws.dir + "/aggregator.log"
            try eventually("the aggregator started on the compiled plan", within: 60) {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                return text.contains("plan compiled in a child process") && text.contains("plan read from its compiled cache")
            }
            let text = try String(contentsOfFile: log, encoding: .utf8)
            #expect(text.contains("exit=0") || text.contains("\"exit\":\"0\""), "\(text.prefix(2_000))")
            #expect(!text.contains("plan read from its YAML"), "the aggregator itself did not parse it")
            let cached = try FileManager.default.contentsOfDirectory(atPath: ws.data + "/aggregator/plan-cache").filter { $0.hasSuffix(".plan") }
            #expect(cached.count == 1)
            aggregator.stop()

            // Cached now: the next start neither spawns a child nor parses.
            try FileManager.default.removeItem(atPath: log)
            aggregator = try ws.aggregator(["--plan", plan])
            try eventually("the aggregator restarted", within: 60) {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("plan read from its compiled cache")
            }
            #expect(!(try String(contentsOfFile: log, encoding: .utf8)).contains("compiled in a child process"))
            aggregator.stop()
        }
    }

    @Test("koers plan compile writes the cache for a valid plan, and refuses a bad one with its problems and exit 1")
    func compileCommand() throws {
        let ws = try Workspace()
        let plan = try Self.largePlan(in: ws.dir)
        let (ok, said) = try runKoers(["plan", "compile", plan, "--data", ws.data])
        #expect(ok == 0, "\(said)")
        #expect(said.contains("valid; compiled into \(ws.data)/aggregator/plan-cache"), "\(said)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.data + "/aggregator/plan-cache").contains { $0.hasSuffix(".plan") })

        let bad = ws.dir + "/bad-plan.yaml"
        try "programme:\n  name: [unclosed\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let (refused, why) = try runKoers(["plan", "compile", bad, "--data", ws.data])
        #expect(refused == 1)
        #expect(why.contains("bad-plan.yaml:"), "the problem with its place: \(why)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.data + "/aggregator/plan-cache").filter { $0.hasSuffix(".plan") }.count == 1,
                "no cache for a bad plan")
    }
}
