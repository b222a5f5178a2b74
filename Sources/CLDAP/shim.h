#ifndef TRUSTAUDIT_CLDAP_SHIM_H
#define TRUSTAUDIT_CLDAP_SHIM_H
// LDAP_DEPRECATED exposes nothing we use; the modern ldap_*_ext_s API is all TrustAudit calls.
#include <lber.h>
#include <ldap.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// LDAP_OPT_ON / LDAP_OPT_OFF are pointer-casting macros Swift cannot import; this sets an
// on/off option (LDAP_OPT_REFERRALS, LDAP_OPT_X_SASL_NOCANON, ...) from a plain flag.
static inline int trustaudit_ldap_set_flag(LDAP *ld, int option, int on) {
    return ldap_set_option(ld, option, on ? LDAP_OPT_ON : LDAP_OPT_OFF);
}

// Cyrus SASL's sasl_interact_t, mirrored field for field so the package needs no libsasl2-dev
// headers (the layout has been fixed since SASL v2). libldap passes an array of these, ended by
// an element whose id is SASL_CB_LIST_END (0).
typedef struct trustaudit_sasl_interact {
    unsigned long id;
    const char *challenge;
    const char *prompt;
    const char *defresult;
    const void *result;
    unsigned len;
} trustaudit_sasl_interact_t;

// The interaction callback for a non-interactive SASL bind (GSSAPI): every prompt (in practice
// only the authorization identity) is answered with the mechanism's default or the empty string,
// which for GSSAPI means "act as the principal in the Kerberos ticket cache". Never prompts.
static inline int trustaudit_sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *prompts) {
    (void)ld; (void)flags; (void)defaults;
    for (trustaudit_sasl_interact_t *prompt = (trustaudit_sasl_interact_t *)prompts;
         prompt != NULL && prompt->id != 0; prompt++) {
        const char *answer = (prompt->defresult != NULL) ? prompt->defresult : "";
        prompt->result = answer;
        prompt->len = (unsigned)strlen(answer);
    }
    return LDAP_SUCCESS;
}
// MARK: - Handshake guard
//
// With LDAP_OPT_NETWORK_TIMEOUT set, libldap 2.5 makes the socket non-blocking for the TLS
// handshake (ldaps:// and StartTLS) and means to poll between gnutls_handshake() calls. But a
// GnuTLS session created without GNUTLS_NONBLOCK retries EAGAIN from the pull function inside
// gnutls_handshake() itself, so against a server that accepts the TCP connection and then says
// nothing the handshake never returns: read() = EAGAIN in a tight loop, 100% CPU, forever.
// Clearing O_NONBLOCK from a connect callback does not help: libldap sets it again when the
// handshake starts, after the callback.
//
// The guard is a Sockbuf I/O layer pushed by a connect callback (LDAP_OPT_CONNECT_CB) between
// libldap's TCP provider (level 10) and the TLS layer (level 20). When a read or write below it
// would block, it poll()s the socket until the deadline (the network timeout, counted from the
// first time the socket would block since the guard was armed) instead of returning EAGAIN; past
// the deadline it fails with ETIMEDOUT, which GnuTLS treats as fatal ("Error in the pull
// function"), so the handshake and the libldap call fail and `timed_out` says why. Outside the
// handshake libldap's sockets are blocking and reads never see EAGAIN, so the layer only passes
// data through.

typedef struct trustaudit_guard {
    struct ldap_conncb callbacks;   // first: libldap hands &callbacks back as the callback context
    Sockbuf_IO io;                  // referenced by each guarded Sockbuf; lives as long as the guard
    long timeout_ms;
    long long deadline_ms;          // 0: not running
    int timed_out;                  // the deadline passed while waiting for the server
    int timed_out_reading;          // ... waiting for the server to send (1) or to take data (0)
    char server[320];               // scheme://host:port of the last connection made
} trustaudit_guard_t;

static inline long long trustaudit_monotonic_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int trustaudit_guard_io_setup(Sockbuf_IO_Desc *sbiod, void *arg) {
    sbiod->sbiod_pvt = arg;
    return 0;
}

static int trustaudit_guard_io_remove(Sockbuf_IO_Desc *sbiod) {
    sbiod->sbiod_pvt = NULL;
    return 0;
}

static int trustaudit_guard_io_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg) {
    return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}

static int trustaudit_guard_io_close(Sockbuf_IO_Desc *sbiod) {
    (void)sbiod;  // the TCP provider below closes the socket
    return 0;
}

// Waits until the socket is ready for `events`: 0 when it is, -1 with errno set otherwise
// (ETIMEDOUT once the deadline passed), 1 when the layer is not guarding (pass EAGAIN on).
static int trustaudit_guard_wait(Sockbuf_IO_Desc *sbiod, short events) {
    trustaudit_guard_t *guard = (trustaudit_guard_t *)sbiod->sbiod_pvt;
    if (guard == NULL || guard->timeout_ms <= 0) return 1;
    ber_socket_t fd = -1;
    if (ber_sockbuf_ctrl(sbiod->sbiod_sb, LBER_SB_OPT_GET_FD, &fd) != 1 || fd < 0) return 1;
    long long now = trustaudit_monotonic_ms();
    if (guard->deadline_ms == 0) guard->deadline_ms = now + guard->timeout_ms;
    for (;;) {
        long long left = guard->deadline_ms - now;
        if (left <= 0) {
            guard->timed_out = 1;
            guard->timed_out_reading = (events & POLLIN) != 0;
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd entry = {.fd = fd, .events = events, .revents = 0};
        int ready = poll(&entry, 1, left > 60000 ? 60000 : (int)left);
        if (ready > 0) return 0;  // readable/writable, or an error or hang-up the retry reports
        if (ready < 0 && errno != EINTR) return -1;
        now = trustaudit_monotonic_ms();
    }
}

static ber_slen_t trustaudit_guard_io_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len) {
    for (;;) {
        ber_slen_t got = LBER_SBIOD_READ_NEXT(sbiod, buf, len);
        if (got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return got;
        int waited = trustaudit_guard_wait(sbiod, POLLIN);
        if (waited != 0) {
            if (waited > 0) errno = EAGAIN;
            return -1;
        }
    }
}

static ber_slen_t trustaudit_guard_io_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len) {
    for (;;) {
        ber_slen_t sent = LBER_SBIOD_WRITE_NEXT(sbiod, buf, len);
        if (sent >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return sent;
        int waited = trustaudit_guard_wait(sbiod, POLLOUT);
        if (waited != 0) {
            if (waited > 0) errno = EAGAIN;
            return -1;
        }
    }
}

// LDAP_OPT_CONNECT_CB add: called once the TCP connection is up, before any TLS handshake.
static int trustaudit_guard_connected(
    LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr, struct ldap_conncb *ctx) {
    (void)ld; (void)addr;
    trustaudit_guard_t *guard = (trustaudit_guard_t *)ctx;
    if (srv != NULL && srv->lud_host != NULL) {
        const char *host = srv->lud_host;
        int literal6 = strchr(host, ':') != NULL;
        snprintf(guard->server, sizeof guard->server, "%s://%s%s%s:%d",
                 srv->lud_scheme != NULL ? srv->lud_scheme : "ldap", literal6 ? "[" : "", host,
                 literal6 ? "]" : "", srv->lud_port);
    }
    return ber_sockbuf_add_io(sb, &guard->io, LBER_SBIOD_LEVEL_PROVIDER + 5, guard) == 0 ? 0 : -1;
}

// LDAP_OPT_CONNECT_CB del: a NULL Sockbuf means the handle itself is being freed (after its
// Sockbufs, and with them this layer, are gone), and the guard with it.
static void trustaudit_guard_closing(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx) {
    (void)ld;
    if (sb == NULL) free(ctx);
}

// The longest deadline the guard keeps: a day, as LDAPConnectionOptions.maximumTimeout.
#define TRUSTAUDIT_GUARD_MAX_MS 86400000L

// Installs the guard on `ld` with a deadline of `seconds` (clamped to [1 ms, a day]). The guard belongs to the handle:
// ldap_unbind_ext frees it, so do not touch it afterwards. NULL if libldap refused.
static inline trustaudit_guard_t *trustaudit_guard_install(LDAP *ld, double seconds) {
    trustaudit_guard_t *guard = (trustaudit_guard_t *)calloc(1, sizeof *guard);
    if (guard == NULL) return NULL;
    guard->callbacks.lc_add = trustaudit_guard_connected;
    guard->callbacks.lc_del = trustaudit_guard_closing;
    guard->io.sbi_setup = trustaudit_guard_io_setup;
    guard->io.sbi_remove = trustaudit_guard_io_remove;
    guard->io.sbi_ctrl = trustaudit_guard_io_ctrl;
    guard->io.sbi_read = trustaudit_guard_io_read;
    guard->io.sbi_write = trustaudit_guard_io_write;
    guard->io.sbi_close = trustaudit_guard_io_close;
    // Clamped before the conversion: converting a double outside long's range (1e20, infinity)
    // or NaN to long is undefined behaviour. NaN fails every comparison and lands on 1 ms.
    double ms = seconds * 1000 + 0.5;
    if (ms > TRUSTAUDIT_GUARD_MAX_MS) guard->timeout_ms = TRUSTAUDIT_GUARD_MAX_MS;
    else if (ms >= 1) guard->timeout_ms = (long)ms;
    else guard->timeout_ms = 1;
    if (ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &guard->callbacks) != LDAP_OPT_SUCCESS) {
        free(guard);
        return NULL;
    }
    return guard;
}

// Starts a fresh deadline for the next libldap call that may connect or hand-shake.
static inline void trustaudit_guard_arm(trustaudit_guard_t *guard) {
    if (guard == NULL) return;
    guard->deadline_ms = 0;
    guard->timed_out = 0;
    guard->timed_out_reading = 0;
}
#endif
