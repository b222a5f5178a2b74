// The LDAP client is written in this folder.
