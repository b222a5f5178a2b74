#ifndef TRUSTAUDIT_COPENSSL_SHIM_H
#define TRUSTAUDIT_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

// Swift cannot call these OpenSSL macros (they expand to SSL_ctrl / SSL_CTX_ctrl); thin functions.

/// Sends the server name (SNI) in the ClientHello.
static inline int trustaudit_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, (char *)name);
}

/// Refuses anything older than `version` (TLS1_2_VERSION).
static inline int trustaudit_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
#endif
