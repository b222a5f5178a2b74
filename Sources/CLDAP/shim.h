#ifndef TRUSTAUDIT_CLDAP_SHIM_H
#define TRUSTAUDIT_CLDAP_SHIM_H
// LDAP_DEPRECATED exposes nothing we use; the modern ldap_*_ext_s API is all TrustAudit calls.
#include <lber.h>
#include <ldap.h>
#endif
