import Foundation
import Logging
import Plan

extension AggregatorRuntime {
    /// Where the compiled plan cache of an aggregator's data directory lives.
    public static func planCacheDirectory(data: String) -> String { "\(data)/aggregator/plan-cache" }

    /// Plan files above this size that the cache does not hold are compiled by a child
    /// process (`koers plan compile`) before the aggregator reads the cache: parsing
    /// 28 MB of YAML (100,000 milestones) peaks near 600 MB, and a process keeps its
    /// high-water mark — and much of what glibc does not give back — for its whole life.
    public static let compileApartAbove = 1 << 20

    /// Compiles a large plan file into the cache in a child process, when the cache does
    /// not hold it, and says how that went. Anything but success leaves the work to
    /// ``loadPlan(path:data:logger:)``, which then parses the YAML itself and reports
    /// any problem with the plan exactly as it always does.
    public static func compileApart(path: String?, data: String, executable: String, logger: Logger) {
        guard let path, let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > compileApartAbove,
              PlanCache(directory: planCacheDirectory(data: data)).holds(path: path) == false else { return }
        let started = ContinuousClock.now
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = ["plan", "compile", path, "--data", data]
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        do {
            try child.run()
            child.waitUntilExit()
        } catch {
            logger.notice("the plan could not be compiled in a child process; this process parses it", metadata: ["error": "\(error)"])
            return
        }
        logger.info("plan compiled in a child process", metadata: ["plan": "\(path)", "exit": "\(child.terminationStatus)",
                                                               "seconds": "\(ContinuousClock.now - started)"])
    }

    /// The plan for an aggregator on `data`: from the compiled plan cache
    /// (`DATA/aggregator/plan-cache`, ``PlanCache``) when it holds this very file, else
    /// from the YAML, which is then cached. What the cache did is logged once.
    ///
    /// - Throws: ``PlanError`` exactly as ``PlanLoader/loadDefault(path:)`` throws it.
    public static func loadPlan(path: String?, data: String, logger: Logger) throws(PlanError) -> Plan {
        let started = ContinuousClock.now
        let (plan, outcome) = try PlanCache(directory: planCacheDirectory(data: data)).load(path: path)
        let seconds: Logger.MetadataValue = "\(ContinuousClock.now - started)"
        switch outcome {
        case .hit(let file):
            logger.info("plan read from its compiled cache", metadata: ["cache": "\(file)", "seconds": seconds])
        case .missed(let file):
            logger.info("plan read from its YAML; compiled cache written", metadata: ["cache": "\(file)", "seconds": seconds])
        case .otherVersion(let file, let version):
            logger.notice("compiled plan cache of another format version ignored; plan read from its YAML and the cache rewritten",
                          metadata: ["cache": "\(file)", "version": "\(version)", "expected": "\(PlanCache.formatVersion)", "seconds": seconds])
        case .damaged(let file, let reason):
            logger.warning("compiled plan cache damaged, not used: plan read from its YAML and the cache rewritten",
                           metadata: ["cache": "\(file)", "reason": "\(reason)", "seconds": seconds])
        case .notWritten(let file, let reason):
            logger.warning("plan read from its YAML, but its compiled cache could not be written: the next start reads the YAML again",
                           metadata: ["cache": "\(file)", "reason": "\(reason)", "seconds": seconds])
        }
        return plan
    }
}
