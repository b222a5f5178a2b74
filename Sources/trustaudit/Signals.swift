import Foundation
import Reporting

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Removes this run's temporaries when it is stopped by SIGINT (Ctrl-C), SIGTERM (a cron timeout,
/// a shutdown) or SIGHUP (a closed terminal), then ends the process by the same signal, so the
/// parent sees 128 + signal (130, 143, 129) as for any program killed by it.
///
/// Why a thread and a self-pipe: only async-signal-safe calls are allowed in a signal handler, and
/// Swift code gives no such guarantee (it may allocate, retain, or take the runtime's locks), nor
/// could a handler wait for a commit that is renaming reports into place (it would leave a set
/// mixed from two runs). So the handler only `write(2)`s the signal number to a pipe, which is
/// async-signal-safe; a dedicated thread reads it and does the work as ordinary code: it takes the
/// `TemporaryFiles` lock (waiting for a commit in progress), unlinks what is registered, and raises
/// the signal again with its default action. Why not `sigwait`: that needs the signals blocked in
/// every thread, and a blocked mask is inherited by the children we spawn (sendmail), which could
/// then not be stopped by SIGTERM; a handled signal is reset to its default by `execve`.
enum Signals {
    static let stopping: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// The pipe's write end, set once before any handler is installed; the handler only reads it.
    nonisolated(unsafe) static var pipeWriteEnd: Int32 = -1

    /// Installs the handlers and starts the thread; call it once, before any temporary exists.
    static func removeTemporariesWhenStopped() {
        guard pipeWriteEnd < 0 else { return }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }  // then the signals keep their default action
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // A full pipe (a burst of signals) must not block the handler; one byte is enough.
        _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
        pipeWriteEnd = ends[1]
        let readEnd = ends[0]
        let thread = Thread { stopWhenSignalled(readEnd) }
        thread.name = "trustaudit-signals"
        thread.start()
        for number in stopping {
            // signal() is sigaction with SA_RESTART on glibc and Darwin: a read or write interrupted
            // on another thread resumes instead of failing with EINTR before this thread ends it.
            _ = signal(number, forwardToPipe)
        }
    }

    private static func stopWhenSignalled(_ readEnd: Int32) -> Never {
        var number: UInt8 = 0
        while read(readEnd, &number, 1) != 1 {
            if errno != EINTR { pause() }
        }
        let stopping = Int32(number)
        let removed = TemporaryFiles.shared.removeAllForExit()
        let name = stopping == SIGINT ? "SIGINT" : stopping == SIGTERM ? "SIGTERM" : "SIGHUP"
        let unfinished = removed.filter { !$0.hasSuffix("/" + OutputLock.fileName) }.count
        printError(
            "trustaudit: stopped by \(name); \(unfinished) unfinished report file\(unfinished == 1 ? "" : "s") removed."
        )
        _ = signal(stopping, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, stopping)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(stopping)
        _exit(128 + stopping)
    }
}

/// The handler: async-signal-safe only (write(2), errno saved). `pipeWriteEnd` was initialized and
/// set before the handler was installed, so reading it is a load behind an already-completed once
/// check, which neither allocates nor locks.
private func forwardToPipe(_ signal: Int32) {
    let saved = errno
    var number = UInt8(truncatingIfNeeded: signal)
    _ = write(Signals.pipeWriteEnd, &number, 1)
    errno = saved
}
