import Foundation
import Logging
import Plan

extension AggregatorRuntime {
    /// Where the compiled plan cache of an aggregator's data directory lives.
    public static func planCacheDirectory(data: String) -> String { "\(data)/aggregator/plan-cache" }

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
