#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `body` with SIGPIPE blocked on this thread, discarding a SIGPIPE it raised.
///
/// Writing to a pipe whose reader exited (a sendmail that failed early) or to a socket the server
/// closed (OpenSSL writes with plain `write`) raises SIGPIPE, whose default action kills the whole
/// process. Blocking it for the calling thread turns that into EPIPE without changing the process's
/// signal dispositions behind the caller's back.
func withSIGPIPEBlocked<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
    var pipeSet = sigset_t()
    sigemptyset(&pipeSet)
    sigaddset(&pipeSet, SIGPIPE)
    var previousMask = sigset_t()
    pthread_sigmask(SIG_BLOCK, &pipeSet, &previousMask)
    var pendingBefore = sigset_t()
    sigpending(&pendingBefore)
    let wasPending = sigismember(&pendingBefore, SIGPIPE) == 1
    defer {
        if !wasPending {
            var pending = sigset_t()
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 {
                var zero = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeSet, nil, &zero)
            }
        }
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
    }
    return try body()
}
