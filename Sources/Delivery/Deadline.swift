#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bounds every delivery timeout and deadline must keep.
public enum DeliveryTimeLimit {
    /// One day, the longest timeout or deadline accepted.
    ///
    /// A nightly job that waits longer than that for its mail has missed the next night already;
    /// and a value like `1e20` would overflow the C time types (`time_t`, poll's milliseconds) it
    /// ends up in, which Swift turns into a trap.
    public static let maximum: Double = 86_400

    /// Throws `.invalidTimeout` unless `0 < seconds <= maximum`.
    /// - Parameter name: the setting as the caller knows it (`timeout`, `deadline`).
    static func check(_ seconds: Double, _ name: String, target: String) throws(DeliveryError) {
        guard seconds.isFinite, seconds > 0, seconds <= maximum else {
            throw DeliveryError(
                .invalidTimeout,
                reason: "the \(name) of \(seconds) seconds is not in 0 < seconds <= \(Int(maximum)) (one day)",
                target: target)
        }
    }

    /// `1 second`, `30 seconds`, `2.5 seconds`; never traps, whatever the value.
    static func describe(_ seconds: Double) -> String {
        if seconds == 1 { return "1 second" }
        if seconds.isFinite, seconds == seconds.rounded(), abs(seconds) < 1e15 { return "\(Int(seconds)) seconds" }
        return "\(seconds) seconds"
    }
}

/// How long one SMTP delivery may still wait: at most `timeout` for any one answer, and never past
/// the deadline for the whole exchange.
///
/// The per-wait timeout alone does not end a delivery: a server that sends one byte every 29
/// seconds answers every read in time and keeps a cron job alive for hours. So every wait on the
/// socket, in clear text or under TLS and during the handshake, is capped at the time left.
struct IOBudget {
    /// Seconds one wait for the server may take.
    let timeout: Double
    /// Seconds the whole delivery may take, as configured (for messages).
    let deadline: Double
    /// `monotonicSeconds()` at which the deadline passes.
    let endsAt: Double
    /// `host:port`, for messages.
    let target: String

    /// Starts the clock now. Both values are clamped into (0, one day], so nothing below can trap
    /// even for a caller that skipped `DeliveryTimeLimit.check`.
    init(timeout: Double, deadline: Double, target: String) {
        func clamped(_ value: Double) -> Double {
            value.isNaN ? DeliveryTimeLimit.maximum : min(max(value, 0.001), DeliveryTimeLimit.maximum)
        }
        self.timeout = clamped(timeout)
        self.deadline = clamped(deadline)
        self.endsAt = monotonicSeconds() + self.deadline
        self.target = target
    }

    /// Seconds left before the deadline (negative once it has passed).
    var remaining: Double { endsAt - monotonicSeconds() }

    /// Throws once the deadline has passed; called before every read and write.
    func check(while doing: String) throws(DeliveryError) {
        if remaining <= 0 { throw deadlineExceeded(while: doing) }
    }

    /// Waits until `socket` is ready for `events` (POLLIN, POLLOUT), for at most `timeout` and never
    /// past the deadline; also returns on an error or hang-up, which the next read or write reports.
    func wait(_ socket: Int32, for events: Int32, while doing: String) throws(DeliveryError) {
        while true {
            let left = remaining
            if left <= 0 { throw deadlineExceeded(while: doing) }
            let slice = min(timeout, left)
            var watch = pollfd(fd: socket, events: Int16(events), revents: 0)
            let ready = poll(&watch, 1, IOBudget.milliseconds(slice))
            if ready > 0 { return }
            if ready < 0 {
                if errno == EINTR { continue }
                throw DeliveryError(
                    .smtpConnectFailed,
                    reason: "cannot wait for \(target) while \(doing): \(String(cString: strerror(errno)))",
                    target: target)
            }
            // The full timeout passed without a byte; a wait cut short by the deadline loops and
            // reports the deadline.
            if slice >= timeout { throw timedOut(while: doing) }
        }
    }

    func timedOut(while doing: String) -> DeliveryError {
        DeliveryError(
            .timeout,
            reason: "no answer from \(target) within \(DeliveryTimeLimit.describe(timeout)) while \(doing)",
            target: target)
    }

    func deadlineExceeded(while doing: String) -> DeliveryError {
        DeliveryError(
            .timeout,
            reason:
                "the delivery to \(target) did not finish within its deadline of \(DeliveryTimeLimit.describe(deadline)) "
                + "and was given up while \(doing); the server or the network is too slow, or stalling on purpose",
            target: target)
    }

    /// `seconds` as poll's milliseconds, rounded up so a wait never ends before its time.
    static func milliseconds(_ seconds: Double) -> Int32 {
        Int32(min(max(seconds, 0) * 1000, DeliveryTimeLimit.maximum * 1000).rounded(.up))
    }
}
