import ArgumentParser
import Foundation
import Logging

/// How a process writes its log to standard error.
enum LogFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// swift-log's `StreamLogHandler` lines, for a person at a terminal.
    case text
    /// One JSON object per line (`timestamp`, `level`, `label`, `message`, then the
    /// metadata as fields), for journald, Loki, Elasticsearch and the like.
    case json
}

/// The log options of every command that runs a process (`aggregator run`, `theme run`).
struct LogOptions: ParsableArguments {
    @Option(name: .long, help: "The log's format on standard error: text (for a person) or json (one object per line). KOERS_LOG_LEVEL sets the level (default info).")
    var logFormat: LogFormat = .text
}

/// One-time logging set-up for a process; `KOERS_LOG_LEVEL` sets the level (default info).
func bootstrapLogging(_ options: LogOptions = LogOptions()) -> Logger {
    let level = ProcessInfo.processInfo.environment["KOERS_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    let format = options.logFormat
    LoggingSystem.bootstrap { label in
        switch format {
        case .text:
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        case .json:
            var h = JSONLogHandler(label: label)
            h.logLevel = level
            return h
        }
    }
    return Logger(label: "koers")
}

/// A log handler that writes one JSON object per line to standard error:
/// `{"timestamp":"2025-03-01T09:30:00.123Z","level":"info","label":"koers","message":"…","key":"value",…}`.
///
/// The four fixed fields come first, then the metadata (the logger's, the provider's,
/// then the statement's, each overriding the one before) sorted by key. A metadata value
/// is a JSON string — an error, logged as `"\(error)"` or as the event's error (field
/// `error`), stays a string — or an array or
/// object of them for `.array` and `.dictionary`. A metadata key that would overwrite a
/// fixed field is written with a leading underscore (`_message`).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static let fixed: Set<String> = ["timestamp", "level", "label", "message"]

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        if let error = event.error, all["error"] == nil { all["error"] = "\(error)" }
        let line = Self.line(date: Date(), level: event.level, label: label, message: event.message.description, metadata: all)
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// swift-log's older entry point, for callers that still use it.
    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
             source: String, file: String, function: String, line: UInt) {
        log(event: LogEvent(level: level, message: message, metadata: explicit, source: source, file: file, function: function, line: line))
    }

    /// The JSON line (with its newline) for one log statement.
    static func line(date: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var out = "{\"timestamp\":" + jsonString(timestamp(date))
        out += ",\"level\":" + jsonString(level.rawValue)
        out += ",\"label\":" + jsonString(label)
        out += ",\"message\":" + jsonString(message)
        for key in metadata.keys.sorted() {
            let name = fixed.contains(key) ? "_" + key : key
            out += "," + jsonString(name) + ":" + json(metadata[key]!)
        }
        return out + "}\n"
    }

    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): return jsonString(s)
        case .stringConvertible(let c): return jsonString(c.description)
        case .array(let a): return "[" + a.map(json).joined(separator: ",") + "]"
        case .dictionary(let d):
            return "{" + d.keys.sorted().map { jsonString($0) + ":" + json(d[$0]!) }.joined(separator: ",") + "}"
        }
    }

    /// ISO 8601 in UTC with milliseconds: `2025-03-01T09:30:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
