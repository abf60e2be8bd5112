import ArgumentParser
import Foundation
import Histogram
import ZeroMQ

/// One side of a measurement, run as its own process by the driver.
struct Role: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one side of a measurement (used by `all`).")

    enum Kind: String, ExpressibleByArgument { case pull, push, echo, ping }

    @Argument var kind: Kind
    @Argument var endpoint: String
    @Argument var count: Int
    @Argument var size: Int
    @Option var api: API = .sync

    func run() async throws {
        let context = try Context()
        defer { context.terminate() }
        switch (kind, api) {
        case (.pull, .sync): try pullSync(context)
        case (.pull, .async): try await pullAsync(context)
        case (.push, .sync): try pushSync(context)
        case (.push, .async): try await pushAsync(context)
        case (.echo, _): try echo(context)
        case (.ping, .sync): try pingSync(context)
        case (.ping, .async): try await pingAsync(context)
        }
    }

    func ready(_ endpoint: String) {
        print("READY \(endpoint)")
        fflush(nil)
    }

    func pullSync(_ context: Context) throws {
        let s = try context.socket(.pull)
        try s.set(.receiveHighWaterMark, 1000)
        ready(try s.bind(endpoint))
        var bytes = try s.receiveFrame { b, _ in b.count }
        let start = ContinuousClock.now
        for _ in 1..<count {
            bytes &+= try s.receiveFrame { b, _ in b.count }
        }
        let elapsed = ContinuousClock.now - start
        print("RESULT \(Int(Double(count - 1) / elapsed.seconds))")
        s.close()
    }

    func pullAsync(_ context: Context) async throws {
        let s = try context.socket(.pull)
        try s.set(.receiveHighWaterMark, 1000)
        let bound = try s.bind(endpoint)
        let pull = AsyncSocket(s)
        ready(bound)
        var iterator = pull.messages.makeAsyncIterator()
        _ = try await iterator.next()
        let start = ContinuousClock.now
        var bytes = 0
        for _ in 1..<count {
            guard let m = try await iterator.next() else { break }
            bytes &+= m[0].count
        }
        let elapsed = ContinuousClock.now - start
        print("RESULT \(Int(Double(count - 1) / elapsed.seconds))")
        await pull.close()
    }

    func pushSync(_ context: Context) throws {
        let s = try context.socket(.push)
        try s.set(.sendHighWaterMark, 1000)
        try s.set(.linger, .forever)
        try s.connect(endpoint)
        let payload = [UInt8](repeating: 0, count: size)
        try payload.withUnsafeBytes { buffer in
            for _ in 0..<count { try s.send(buffer) }
        }
        s.close()
    }

    func pushAsync(_ context: Context) async throws {
        let s = try context.socket(.push)
        try s.set(.sendHighWaterMark, 1000)
        try s.connect(endpoint)
        var config = AsyncSocket.Configuration()
        config.linger = .forever
        let push = AsyncSocket(s, configuration: config)
        let payload = [UInt8](repeating: 0, count: size)
        for _ in 0..<count {
            try await push.send(Message([Frame(payload)]))
        }
        try await push.flush()
        await push.close()
    }

    func echo(_ context: Context) throws {
        let s = try context.socket(.rep)
        ready(try s.bind(endpoint))
        for _ in 0..<count {
            try s.send(try s.receive())
        }
        s.close()
    }

    /// Round trips, the first tenth unrecorded as warm-up, into an HdrHistogram (ns).
    func pingSync(_ context: Context) throws {
        let s = try context.socket(.req)
        try s.connect(endpoint)
        let payload = [UInt8](repeating: 0, count: size)
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        try payload.withUnsafeBytes { buffer in
            for i in 0..<count {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try s.send(buffer)
                _ = try s.receiveFrame { b, _ in b.count }
                let rtt = DispatchTime.now().uptimeNanoseconds - t0
                if i >= count / 10 { histogram.record(rtt) }
            }
        }
        print("RESULT \(histogram.valueAtPercentile(50)) \(histogram.valueAtPercentile(99))")
        s.close()
    }

    func pingAsync(_ context: Context) async throws {
        let s = try context.socket(.req)
        try s.connect(endpoint)
        let req = AsyncSocket(s)
        var replies = req.messages.makeAsyncIterator()
        let payload = [UInt8](repeating: 0, count: size)
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for i in 0..<count {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try await req.send(Message([Frame(payload)]))
            _ = try await replies.next()
            let rtt = DispatchTime.now().uptimeNanoseconds - t0
            if i >= count / 10 { histogram.record(rtt) }
        }
        print("RESULT \(histogram.valueAtPercentile(50)) \(histogram.valueAtPercentile(99))")
        await req.close()
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
