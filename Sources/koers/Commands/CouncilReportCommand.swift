import ArgumentParser
import Foundation
import History
import Plan
import Report

/// `koers council-report`: the voortgangsbrief for the gemeenteraad, from the store.
struct CouncilReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "council-report",
        abstract: "Write the council report (voortgangsbrief, in Dutch) as of a date, from the aggregator's store.",
        discussion: """
            Reads DATA/aggregator/koers.sqlite (the aggregator may be running) and writes the progress of the \
            Toekomstplan as of --as-of: samenvatting, voortgang per thema, wijken, financiering, indicatoren with \
            their charts, what changed since --since (default: three months before --as-of), and how the status is \
            computed. Markdown and HTML are byte-identical for the same store and date. PDF needs headless Chromium \
            (Debian package `chromium`). Pass the aggregator's --plan when it runs another plan than the built-in \
            one: the store does not record it. See docs/council-report.md.
            """)

    @Option(name: .long, help: "The date of the report (YYYY-MM-DD).") var asOf: String
    @Option(name: .long, help: "What changed since this date (YYYY-MM-DD; default: three months before --as-of).") var since: String?
    @Option(name: .long, help: "md, html or pdf.") var format: String = "md"
    @Option(name: .long, help: "Write to this file (default: standard output; required for pdf).") var out: String?
    @Option(name: .long, help: "Where the aggregator keeps its data.") var data: String = "data"
    @Option(name: .long, help: "The plan file. Default: the built-in plan.") var plan: String?

    func validate() throws {
        guard PlanDate(iso: asOf) != nil else { throw ValidationError("--as-of must be a date YYYY-MM-DD, not `\(asOf)`") }
        if let since {
            guard let s = PlanDate(iso: since) else { throw ValidationError("--since must be a date YYYY-MM-DD, not `\(since)`") }
            if s > PlanDate(iso: asOf)! { throw ValidationError("--since \(since) is after --as-of \(asOf); it must be on or before it") }
        }
        guard ["md", "html", "pdf"].contains(format) else { throw ValidationError("--format must be md, html or pdf, not `\(format)`") }
        if format == "pdf" && out == nil { throw ValidationError("--format pdf needs --out FILE.pdf") }
    }

    func run() throws {
        let p: Plan
        do { p = try PlanLoader.loadDefault(path: plan) } catch { printError(error.description); throw ExitCode(1) }
        let history = try openHistory(data)
        let report = try CouncilReport.make(plan: p, history: history, asOf: PlanDate(iso: asOf)!, since: since.flatMap(PlanDate.init(iso:)))
        switch format {
        case "md": try write(report.markdown())
        case "html": try write(report.html())
        default: try pdf(report.html(), to: out!)
        }
    }

    func write(_ text: String) throws {
        guard let out else { FileHandle.standardOutput.write(Data(text.utf8)); return }
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } catch {
            printError("cannot write \(out): \(error.localizedDescription)")
            throw ExitCode(1)
        }
    }

    /// Prints the HTML to PDF with headless Chromium.
    func pdf(_ html: String, to path: String) throws {
        guard let chromium = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(findExecutable).first else {
            printError("PDF needs headless Chromium, which is not installed: apt-get install chromium (the Debian package `chromium`); "
                       + "or write --format html and print that")
            throw ExitCode(1)
        }
        let dir = NSTemporaryDirectory() + "koers-council-report-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let htmlPath = dir + "/voortgangsbrief.html"
        try Data(html.utf8).write(to: URL(fileURLWithPath: htmlPath))
        let target = URL(fileURLWithPath: path).standardizedFileURL.path
        try? FileManager.default.removeItem(atPath: target)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--print-to-pdf-no-header",
                       "--user-data-dir=\(dir)/profile", "--print-to-pdf=\(target)", "file://\(htmlPath)"]
        let log = Pipe()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        let output = log.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, FileManager.default.fileExists(atPath: target) else {
            printError("chromium could not print the PDF (exit \(p.terminationStatus)):\n" + String(decoding: output.suffix(2000), as: UTF8.self))
            throw ExitCode(1)
        }
    }

    func findExecutable(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
