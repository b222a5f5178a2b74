#ifndef TRUSTAUDIT_CLDAP_SHIM_H
#define TRUSTAUDIT_CLDAP_SHIM_H
// LDAP_DEPRECATED exposes nothing we use; the modern ldap_*_ext_s API is all TrustAudit calls.
#include <lber.h>
#include <ldap.h>
#include <string.h>

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
#endif
