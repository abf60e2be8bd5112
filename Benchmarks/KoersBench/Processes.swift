import ArgumentParser
import Foundation

/// The benchmark's child programs (the C baselines, this program's own roles) speak a
/// line protocol on stdout: `READY <endpoint> …` once listening, `RESULT <numbers>` at
/// the end.
struct Child {
    let argv: [String]
    let process: Process
    let lines: LineReader

    init(_ argv: [String]) throws {
        self.argv = argv
        process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        lines = LineReader(handle: pipe.fileHandleForReading)
    }

    /// The words after `READY`.
    func ready() throws -> [String] {
        guard let line = lines.next(), line.hasPrefix("READY ") else {
            throw ValidationError("\(argv.joined(separator: " ")) did not report READY")
        }
        return line.dropFirst(6).split(separator: " ").map(String.init)
    }

    /// Reads to the end of the output, waits for the exit and returns the numbers of the
    /// last `RESULT` line, if any; throws when the program failed.
    @discardableResult
    func finish() throws -> [Double]? {
        var resultLine: String?
        for line in lines where line.hasPrefix("RESULT ") { resultLine = line }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("benchmark program failed (exit \(process.terminationStatus)): \(argv.joined(separator: " "))")
        }
        return resultLine.map { $0.dropFirst(7).split(separator: " ").compactMap { Double($0) } }
    }

    /// `finish()`, for a program that must print a `RESULT`.
    func result() throws -> [Double] {
        guard let numbers = try finish() else { throw ValidationError("\(argv.joined(separator: " ")) printed no RESULT") }
        return numbers
    }
}

enum ResultSide { case receiver, sender }

/// Starts the receiver, waits for its `READY <endpoint>`, starts the sender against
/// that endpoint, waits for both and returns the numbers on the chosen side's `RESULT`.
func pair(receiver: [String], sender: (String) -> [String], resultFrom side: ResultSide = .receiver) throws -> [Double] {
    let rx = try Child(receiver)
    let tx = try Child(sender(try rx.ready()[0]))
    let (first, second) = side == .receiver ? (rx, tx) : (tx, rx)
    let numbers = try first.result()
    try second.finish()
    return numbers
}

/// Reads a child's stdout line by line.
final class LineReader: Sequence, IteratorProtocol {
    let handle: FileHandle
    var buffer: [UInt8] = []

    init(handle: FileHandle) { self.handle = handle }

    func next() -> String? {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return line
            }
            let chunk = handle.availableData
            if chunk.isEmpty {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            buffer.append(contentsOf: chunk)
        }
    }
}
