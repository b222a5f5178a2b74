import CLDAP
import Foundation
import UntrustedInput

/// One connection to a directory server: owns libldap's `LDAP*` handle and frees it in `deinit`.
///
/// Not `Sendable`: libldap handles must not be used from two threads at once, so a connection
/// belongs to whoever created it. All calls are synchronous and honour the options' timeouts.
public final class LDAPConnection {
    public let options: LDAPConnectionOptions
    /// The normalized URI list handed to libldap (and named in errors).
    public let serverURI: String
    /// Owned; freed with `ldap_unbind_ext` in `deinit`, never lent outside `withHandle`.
    private let handle: OpaquePointer
    /// Set once a bind succeeded: from then on a dropped connection is `connectionLost`.
    public private(set) var isBound = false
    /// The handshake guard (shim.h) installed on `handle`: bounds every TLS handshake by the
    /// network timeout. Owned by the handle, freed by `ldap_unbind_ext`; nil if libldap refused it.
    private let handshakeGuard: UnsafeMutablePointer<trustaudit_guard_t>?

    /// Creates the handle, applies the options and, when asked, runs StartTLS.
    ///
    /// libldap connects lazily: for ldap:// and ldaps:// without StartTLS the first network
    /// traffic is the bind, so an unreachable server is reported by the bind.
    public init(options: LDAPConnectionOptions) throws {
        let uris = try options.parsedURIs()
        let uriList = uris.map(\.description).joined(separator: " ")
        // On failure `makeHandle` frees what it allocated; from here on `ld` is ours to free.
        let (ld, handshakeGuard) = try Self.makeHandle(options: options, uriList: uriList)
        if options.startTLS {
            trustaudit_guard_arm(handshakeGuard)
            let rc = ldap_start_tls_s(ld, nil, nil)
            if rc != LDAP_SUCCESS {
                let error = Self.error(
                    from: ld, resultCode: rc, operation: .startTLS, options: options, serverURI: uriList,
                    wasBound: false, handshakeGuard: handshakeGuard)
                ldap_unbind_ext(ld, nil, nil)  // frees the guard too
                throw error
            }
        }
        self.options = options
        self.serverURI = uriList
        self.handle = ld
        self.handshakeGuard = handshakeGuard
    }

    deinit {
        ldap_unbind_ext(handle, nil, nil)
    }

    /// Lends the raw handle for calls this type does not wrap. Do not let it escape the closure.
    public func withHandle<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try body(handle)
    }

    // MARK: Binds

    /// Binds with a DN (or `user@domain`) and password; the password is never logged or kept.
    ///
    /// An empty password is refused here: LDAP would treat it as an unauthenticated bind, which
    /// succeeds and then reads nothing.
    public func simpleBind(dn: String, password: [UInt8]) throws {
        guard !password.isEmpty else {
            throw LDAPError(
                .invalidCredentials, resultCode: LDAPError.ResultCode.paramError, operation: .simpleBind,
                serverURI: serverURI, diagnosticMessage: "empty password",
                advice: "An empty password would make an unauthenticated bind; give the password.")
        }
        var secret = password
        defer { for index in secret.indices { secret[index] = 0 } }
        let rc = secret.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var credential = berval(
                bv_len: ber_len_t(buffer.count),
                bv_val: UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self))
            // LDAP_SASL_SIMPLE is a null mechanism. The first bind connects (and hand-shakes).
            trustaudit_guard_arm(handshakeGuard)
            return ldap_sasl_bind_s(handle, dn, nil, &credential, nil, nil, nil)
        }
        guard rc == LDAP_SUCCESS else { throw error(rc, .simpleBind) }
        isBound = true
    }

    /// Binds with Kerberos through SASL GSSAPI, as the principal in the caller's ticket cache
    /// (`KRB5CCNAME`, else the default cache). Never prompts.
    ///
    /// Needs a plain ldap:// URI naming the DC by host name (the service ticket is for
    /// ldap/<that name>); AD and Samba refuse GSSAPI sealing inside TLS.
    public func saslGSSAPIBind() throws {
        trustaudit_guard_arm(handshakeGuard)
        let rc = ldap_sasl_interactive_bind_s(
            handle, nil, "GSSAPI", nil, nil, UInt32(LDAP_SASL_QUIET), trustaudit_sasl_interact, nil)
        guard rc == LDAP_SUCCESS else { throw error(rc, .saslBind) }
        isBound = true
    }

    // MARK: Searches

    /// The attributes `rootDSE()` asks for.
    public static let rootDSEAttributes = [
        "defaultNamingContext", "rootDomainNamingContext", "configurationNamingContext", "currentTime",
        "dnsHostName", "serverName", "supportedControl", "isGlobalCatalogReady",
        "domainControllerFunctionality", "dsServiceName",
    ]

    /// Reads the server's root DSE (base "", scope base).
    public func rootDSE() throws -> LDAPEntry {
        var found: LDAPEntry?
        try search(base: "", scope: .base, attributes: Self.rootDSEAttributes, pageSize: 0) { entry in
            if found == nil { found = entry }
        }
        guard let found else {
            throw LDAPError(
                .noSuchObject, resultCode: LDAPError.ResultCode.noSuchObject, operation: .search,
                serverURI: serverURI, diagnosticMessage: "the server returned no root DSE")
        }
        return found
    }

    /// Searches page by page with the paged-results control (RFC 2696), handing each page over as
    /// soon as it arrives.
    ///
    /// - Parameters:
    ///   - attributes: descriptions to return; empty means all user attributes. A ranged request
    ///     such as `servicePrincipalName;range=0-1` is allowed (tests use it to force ranging).
    ///   - pageSize: entries per page; 0 sends no paging control (a root DSE or base read).
    ///   - rangeStep: when set, later chunks of a ranged attribute are asked for `rangeStep` values
    ///     at a time instead of `low-*`, forcing several round trips (for tests).
    ///   - controls: server controls sent with every request of the search (each page, each
    ///     ranged read), after the paging control; e.g. Show Deleted for tombstones.
    ///
    /// Continuation references are skipped and counted, never followed. Ranged attributes are
    /// completed with base-scope reads of the entry and merged under the plain name before the
    /// page is handed over. If `body` throws, the server-side paged search is abandoned and the
    /// error is rethrown.
    public func search(
        base: String, scope: LDAPSearchScope = .subtree, filter: String = "(objectClass=*)",
        attributes: [String] = [], pageSize: Int = 1000, rangeStep: Int? = nil, controls: [LDAPServerControl] = [],
        forEachPage body: (LDAPSearchPage) throws -> Void
    ) throws {
        for control in controls { try check(control) }
        let size = pageSize > 0 ? Int32(clamping: pageSize) : nil
        // Each next page is asked for as soon as this page's cookie is in, and this page is handed
        // to `body` while the server prepares that one: the server's work and the caller's overlap
        // instead of taking turns. libldap keeps the next page's answers queued meanwhile, even
        // across the base reads that complete ranged attributes.
        var request = try sendSearch(
            base: base, scope: scope, filter: filter, attributes: attributes, paging: size.map { ($0, []) },
            controls: controls)
        var number = 0
        while true {
            let page = try collectPage(request)
            number += 1
            let cookie = page.cookie ?? []
            var following: Int32?
            if let size, !cookie.isEmpty {
                following = try sendSearch(
                    base: base, scope: scope, filter: filter, attributes: attributes, paging: (size, cookie),
                    controls: controls)
            }
            do {
                var entries = page.entries
                for index in entries.indices
                where entries[index].attributes.contains(where: { isRanged($0.name) }) {
                    entries[index] = try completeRanges(of: entries[index], step: rangeStep, controls: controls)
                }
                try body(LDAPSearchPage(number: number, entries: entries, skippedReferences: page.references))
            } catch {
                if let following {
                    // The page already asked for is read and dropped; its cookie then ends the search.
                    if let next = try? collectPage(following), let cookie = next.cookie, !cookie.isEmpty {
                        abandonPagedSearch(base: base, scope: scope, filter: filter, cookie: cookie, controls: controls)
                    }
                }
                throw error
            }
            guard let following else { return }
            request = following
        }
    }

    /// Searches and hands over one entry at a time (pages are still fetched one by one).
    public func search(
        base: String, scope: LDAPSearchScope = .subtree, filter: String = "(objectClass=*)",
        attributes: [String] = [], pageSize: Int = 1000, rangeStep: Int? = nil, controls: [LDAPServerControl] = [],
        forEachEntry body: (LDAPEntry) throws -> Void
    ) throws {
        try search(
            base: base, scope: scope, filter: filter, attributes: attributes, pageSize: pageSize,
            rangeStep: rangeStep, controls: controls
        ) { (page: LDAPSearchPage) in
            for entry in page.entries { try body(entry) }
        }
    }

    /// Searches and returns every entry; for small results (the stream suits whole domains).
    public func searchAll(
        base: String, scope: LDAPSearchScope = .subtree, filter: String = "(objectClass=*)",
        attributes: [String] = [], pageSize: Int = 1000, rangeStep: Int? = nil, controls: [LDAPServerControl] = []
    ) throws -> [LDAPEntry] {
        var all: [LDAPEntry] = []
        try search(
            base: base, scope: scope, filter: filter, attributes: attributes, pageSize: pageSize,
            rangeStep: rangeStep, controls: controls
        ) { (page: LDAPSearchPage) in
            all += page.entries
        }
        return all
    }

    // MARK: - Internals

    private struct RawPage {
        var entries: [LDAPEntry] = []
        var references = 0
        /// The server's paging cookie; nil when no paging control came back.
        var cookie: [UInt8]?
    }

    /// One round trip: one page, or the whole result when `paging` is nil.
    private func searchOnce(
        base: String, scope: LDAPSearchScope, filter: String, attributes: [String],
        paging: (size: Int32, cookie: [UInt8])?, controls: [LDAPServerControl]
    ) throws -> RawPage {
        try collectPage(
            sendSearch(
                base: base, scope: scope, filter: filter, attributes: attributes, paging: paging, controls: controls))
    }

    /// Sends a search request (one page of it when `paging` is set) and returns its message id.
    private func sendSearch(
        base: String, scope: LDAPSearchScope, filter: String, attributes: [String],
        paging: (size: Int32, cookie: [UInt8])?, controls: [LDAPServerControl]
    ) throws -> Int32 {
        var control: UnsafeMutablePointer<LDAPControl>?
        // The control is ours: ldap_control_free below, whatever happens (the request is encoded
        // when it is sent).
        defer { if let control { ldap_control_free(control) } }
        if let paging {
            var cookie = paging.cookie
            let rc = cookie.withUnsafeMutableBufferPointer { buffer -> Int32 in
                var value = berval(
                    bv_len: ber_len_t(buffer.count),
                    bv_val: buffer.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) })
                // Criticality true: a server that cannot page must refuse rather than truncate.
                return ldap_create_page_control(handle, paging.size, &value, 1, &control)
            }
            guard rc == LDAP_SUCCESS else { throw error(rc, .search) }
        }
        var timeout = Self.timeval(seconds: options.operationTimeout)
        var id: Int32 = 0
        let rc = Self.withCStringArray(attributes) { attrs in
            Self.withServerControls(controls, paging: control) { serverControls in
                ldap_search_ext(handle, base, scope.rawValue, filter, attrs, 0, serverControls, nil, &timeout, 0, &id)
            }
        }
        guard rc == LDAP_SUCCESS else { throw error(rc, .search) }
        return id
    }

    /// Waits for every message of the search `id` (as ldap_search_ext_s would, with its timeout)
    /// and reads them into a page.
    private func collectPage(_ id: Int32) throws -> RawPage {
        var result: OpaquePointer?
        // The message chain is ours: ldap_msgfree below, even when the search failed.
        defer { if let result { ldap_msgfree(result) } }
        var timeout = Self.timeval(seconds: options.operationTimeout)
        let type = ldap_result(handle, id, LDAP_MSG_ALL, &timeout, &result)
        guard type > 0, result != nil else {
            var code: Int32 = LDAP_OTHER
            _ = ldap_get_option(handle, LDAP_OPT_RESULT_CODE, &code)
            if type == 0 {
                // Timed out: the request is dropped on the server too.
                _ = ldap_abandon_ext(handle, id, nil, nil)
                code = LDAP_TIMEOUT
            }
            throw error(code, .search)
        }
        var page = RawPage()
        var finished = false
        var message = ldap_first_message(handle, result)
        while let current = message {
            switch ldap_msgtype(current) {
            case 0x64:  // LDAP_RES_SEARCH_ENTRY
                page.entries.append(readEntry(current))
            case 0x73:  // LDAP_RES_SEARCH_REFERENCE: a continuation reference; skipped, not chased.
                page.references += 1
            case 0x65:  // LDAP_RES_SEARCH_RESULT: a result code other than success throws here.
                page.cookie = try readResult(current)
                finished = true
            default:
                break
            }
            message = ldap_next_message(handle, current)
        }
        guard finished else { throw error(LDAP_OTHER, .search) }
        return page
    }

    /// Checks the final result message and returns the paging cookie (empty when done, nil when
    /// the server sent no paging control).
    private func readResult(_ message: OpaquePointer) throws -> [UInt8]? {
        var code: Int32 = 0
        var matched: UnsafeMutablePointer<CChar>?
        var diagnostic: UnsafeMutablePointer<CChar>?
        var controls: UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>?
        // Strings and controls come back allocated: freed below; the message itself is freed by the caller.
        defer {
            if let matched { ldap_memfree(matched) }
            if let diagnostic { ldap_memfree(diagnostic) }
            if let controls { ldap_controls_free(controls) }
        }
        let rc = ldap_parse_result(handle, message, &code, &matched, &diagnostic, nil, &controls, 0)
        guard rc == LDAP_SUCCESS else { throw error(rc, .search) }
        guard code == LDAP_SUCCESS else {
            let classified = LDAPError.classify(
                resultCode: code, operation: .search, usesTLS: options.usesTLS, wasBound: isBound,
                diagnostic: diagnostic.map { String(cString: $0) })
            throw LDAPError(
                classified, resultCode: code, operation: .search, serverURI: serverURI,
                matchedDN: matched.map { String(cString: $0) },
                diagnosticMessage: diagnostic.map { String(cString: $0) })
        }
        guard let found = ldap_control_find(Self.pagedResultsOID, controls, nil) else { return nil }
        var count: ber_int_t = 0
        var cookie = berval()
        let parsed = ldap_parse_pageresponse_control(handle, found, &count, &cookie)
        // The cookie's bytes are allocated by libldap: copied, then ber_memfree'd.
        defer { if let bytes = cookie.bv_val { ber_memfree(bytes) } }
        guard parsed == LDAP_SUCCESS else { throw error(parsed, .search) }
        return Self.bytes(of: cookie)
    }

    /// The entry's DN and attributes in one pass over its BER, as ldapsearch reads them
    /// (`ldap_get_dn_ber`, then `ldap_get_attribute_ber` per attribute): `ldap_get_values_len`
    /// by name scans the entry from its start for every attribute, which was a quarter of the
    /// instructions of a `--dcs all` audit (callgrind, 10,000 computers on two DCs).
    private func readEntry(_ message: OpaquePointer) -> LDAPEntry {
        var ber: OpaquePointer?
        // The BerElement walks the message's own buffer: ber_free(ber, 0) once done.
        defer { if let ber { ber_free(ber, 0) } }
        var dn = berval()
        guard ldap_get_dn_ber(handle, message, &ber, &dn) == LDAP_SUCCESS else { return LDAPEntry(dn: "") }
        var entry = LDAPEntry(dn: Self.string(of: dn))
        var name = berval()
        var list: UnsafeMutablePointer<berval>?
        while ldap_get_attribute_ber(handle, message, ber, &name, &list) == LDAP_SUCCESS, name.bv_val != nil {
            var values: [[UInt8]] = []
            if let list {
                var index = 0
                while list[index].bv_val != nil {
                    values.append(Self.bytes(of: list[index]))
                    index += 1
                }
                ber_memfree(list)
            }
            list = nil
            entry.attributes.append((name: Self.string(of: name), values: values))
        }
        return entry
    }

    /// Asked of every attribute of every entry, and almost every name has no option at all: the
    /// ';' is looked for in the bytes first, since Foundation's case-insensitive search on each name
    /// was a tenth of a `--dcs all` audit's CPU (perf, 10,000 computers on two DCs).
    private func isRanged(_ name: String) -> Bool {
        guard name.utf8.contains(UInt8(ascii: ";")) else { return false }
        return name.range(of: ";range=", options: .caseInsensitive) != nil
    }

    /// Fetches the remaining chunks of every ranged attribute of `entry` with base-scope reads and
    /// merges each under its plain name, in place.
    private func completeRanges(
        of entry: LDAPEntry, step: Int?, controls: [LDAPServerControl]
    ) throws -> LDAPEntry {
        var completed = LDAPEntry(dn: entry.dn)
        for (name, values) in entry.attributes {
            guard var range = LDAPAttributeRange(attributeDescription: name) else {
                completed.attributes.append((name: name, values: values))
                continue
            }
            var collected = values
            while let request = range.nextRequest(step: step), let high = range.high {
                let chunk = try searchOnce(
                    base: entry.dn, scope: .base, filter: "(objectClass=*)", attributes: [request], paging: nil,
                    controls: controls
                ).entries.first
                let wanted = range.attribute.lowercased()
                guard
                    let next = chunk?.attributes.lazy.compactMap({ attribute in
                        LDAPAttributeRange(attributeDescription: attribute.name).flatMap {
                            $0.attribute.lowercased() == wanted ? ($0, attribute.values) : nil
                        }
                    }).first
                else { break }  // The attribute shrank or vanished meanwhile: keep what arrived.
                guard next.0.low > high else { break }  // No progress: never loop.
                collected += next.1
                range = next.0
            }
            completed.attributes.append((name: range.attribute, values: collected))
        }
        return completed
    }

    /// Tells the server to drop a paged search's state (page size 0 with the cookie); best effort.
    private func abandonPagedSearch(
        base: String, scope: LDAPSearchScope, filter: String, cookie: [UInt8], controls: [LDAPServerControl]
    ) {
        // libldap's ldap_create_page_control refuses a size of 0, so the value is encoded here:
        // SEQUENCE { INTEGER 0, OCTET STRING cookie } (RFC 2696 section 3).
        let value = Self.berTLV(0x30, [0x02, 0x01, 0x00] + Self.berTLV(0x04, cookie))
        let end = LDAPServerControl(oid: Self.pagedResultsOID, value: value, isCritical: true)
        _ = try? searchOnce(
            base: base, scope: scope, filter: filter, attributes: ["1.1"], paging: nil, controls: [end] + controls)
    }

    /// Refuses a control whose OID is not in numeric form before anything is sent: libldap would
    /// send any text, and the server's "unavailable critical extension" would not say which.
    private func check(_ control: LDAPServerControl) throws {
        guard !LDAPServerControl.isNumericOID(control.oid) else { return }
        throw LDAPError(
            .other, resultCode: LDAPError.ResultCode.paramError, operation: .search, serverURI: serverURI,
            diagnosticMessage:
                "the server control \"\(TerminalText.escaped(control.oid))\" has no numeric OID (such as 1.2.840.113556.1.4.417)",
            advice: "Name each server control by its numeric OID.")
    }

    private func error(_ rc: Int32, _ operation: LDAPError.Operation) -> LDAPError {
        Self.error(
            from: handle, resultCode: rc, operation: operation, options: options, serverURI: serverURI,
            wasBound: isBound, handshakeGuard: handshakeGuard)
    }

    // MARK: - Static helpers

    static let pagedResultsOID = "1.2.840.113556.1.4.319"

    /// One BER element of `tag` around `content`, in the definite length form DER uses.
    static func berTLV(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        guard content.count >= 0x80 else { return [tag, UInt8(content.count)] + content }
        var length: [UInt8] = []
        var rest = content.count
        while rest > 0 {
            length.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return [tag, 0x80 | UInt8(length.count)] + length + content
    }

    /// Creates and configures a handle, with the handshake guard installed. Frees it itself when
    /// configuration fails.
    private static func makeHandle(
        options: LDAPConnectionOptions, uriList: String
    ) throws -> (OpaquePointer, UnsafeMutablePointer<trustaudit_guard_t>?) {
        func fail(_ rc: Int32, _ reason: String, _ code: LDAPError.Code = .invalidURI) -> LDAPError {
            LDAPError(code, resultCode: rc, operation: .configure, serverURI: uriList, diagnosticMessage: reason)
        }
        var created: OpaquePointer?
        let rc = ldap_initialize(&created, uriList)
        guard rc == LDAP_SUCCESS, let ld = created else {
            throw fail(rc, "libldap rejected the URI: \(String(cString: ldap_err2string(rc)))")
        }
        var ok = true
        var version: Int32 = 3
        ok = ok && ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) == LDAP_OPT_SUCCESS
        ok = ok && trustaudit_ldap_set_flag(ld, LDAP_OPT_REFERRALS, 0) == LDAP_OPT_SUCCESS
        // Retry system calls interrupted by signals instead of failing the operation.
        ok = ok && trustaudit_ldap_set_flag(ld, LDAP_OPT_RESTART, 1) == LDAP_OPT_SUCCESS
        // Kerberos: use the host name as written in the URI, no reverse-DNS canonicalization (ldapsearch -N).
        ok = ok && trustaudit_ldap_set_flag(ld, LDAP_OPT_X_SASL_NOCANON, 1) == LDAP_OPT_SUCCESS
        var network = timeval(seconds: options.networkTimeout)
        ok = ok && ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &network) == LDAP_OPT_SUCCESS
        var operation = timeval(seconds: options.operationTimeout)
        ok = ok && ldap_set_option(ld, LDAP_OPT_TIMEOUT, &operation) == LDAP_OPT_SUCCESS
        // Bounds the TLS handshake, which LDAP_OPT_NETWORK_TIMEOUT alone does not (see shim.h).
        let handshakeGuard = ok ? trustaudit_guard_install(ld, options.networkTimeout) : nil
        ok = ok && handshakeGuard != nil
        guard ok else {
            ldap_unbind_ext(ld, nil, nil)
            throw fail(LDAPError.ResultCode.paramError, "libldap refused a connection option", .other)
        }
        if options.usesTLS {
            if let caFile = options.caFile {
                // libldap reads the file itself: a FIFO there would block it for ever and
                // /dev/zero would be read to exhaustion, so only a regular file of sane size passes.
                do {
                    try InputFile.validate(caFile, kind: "CA file", limit: InputFile.Limit.certificateBundle)
                } catch {
                    ldap_unbind_ext(ld, nil, nil)
                    throw fail(LDAPError.ResultCode.paramError, "cannot use \(error)", .tlsFailure)
                }
                ok = ok && ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, caFile) == LDAP_OPT_SUCCESS
            }
            if !options.verifyCertificate {
                var never = LDAP_OPT_X_TLS_NEVER
                ok = ok && ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &never) == LDAP_OPT_SUCCESS
            }
            // A fresh TLS context so the per-handle settings above take effect (0: client side).
            var isServer: Int32 = 0
            let newContext = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &isServer)
            guard ok, newContext == LDAP_OPT_SUCCESS else {
                ldap_unbind_ext(ld, nil, nil)
                throw fail(
                    LDAPError.ResultCode.connectError,
                    "could not set up TLS (is the CA file a PEM file of CA certificates?)", .tlsFailure)
            }
        }
        return (ld, handshakeGuard)
    }

    /// Builds the error for a failed call on `ld`, reading libldap's diagnostic message; for a
    /// failed connection it finds out why (see `ConnectionDiagnosis`).
    static func error(
        from ld: OpaquePointer, resultCode rc: Int32, operation: LDAPError.Operation,
        options: LDAPConnectionOptions, serverURI: String, wasBound: Bool,
        handshakeGuard: UnsafeMutablePointer<trustaudit_guard_t>? = nil
    ) -> LDAPError {
        if rc != LDAP_SUCCESS, let handshakeGuard, handshakeGuard.pointee.timed_out != 0 {
            // The guard cut a stalled handshake: no need to re-run the connection to find out why.
            return handshakeTimeoutError(
                handshakeGuard.pointee, operation: operation, options: options, serverURI: serverURI)
        }
        var diagnostic = stringOption(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE)
        let matched = stringOption(ld, LDAP_OPT_MATCHED_DN)
        var answeredWithSomethingElse = false
        if !wasBound, rc == LDAPError.ResultCode.serverDown || rc == LDAPError.ResultCode.connectError {
            let useless = diagnostic == nil || diagnostic == "(unknown error code)"
            let finding = ConnectionDiagnosis.probe(options: options, uriList: serverURI)
            if let found = finding.summary {
                diagnostic = useless ? found : "\(diagnostic!); \(found)"
            }
            answeredWithSomethingElse = finding.answeredWithSomethingElse
        }
        if rc == LDAPError.ResultCode.timeout, diagnostic == nil, operation != .search {
            // libldap's LDAP_OPT_TIMEOUT ran out waiting for the reply: say which reply.
            let seconds = formatSeconds(options.operationTimeout)
            diagnostic = "no answer to the \(operation.rawValue) request within \(seconds) s"
        }
        // libldap calls such a reply "Can't contact LDAP server"; the probe saw what it was.
        let code =
            answeredWithSomethingElse
            ? .notLDAP
            : LDAPError.classify(
                resultCode: rc, operation: operation, usesTLS: options.usesTLS, wasBound: wasBound,
                diagnostic: diagnostic)
        return LDAPError(
            code, resultCode: rc, operation: operation, serverURI: serverURI, matchedDN: matched,
            diagnosticMessage: diagnostic)
    }

    /// The error for a TLS handshake the guard gave up on: the server (or whatever holds the
    /// port) took the TCP connection but did not finish the handshake within the network timeout.
    static func handshakeTimeoutError(
        _ state: trustaudit_guard_t, operation: LDAPError.Operation, options: LDAPConnectionOptions,
        serverURI: String
    ) -> LDAPError {
        var copy = state
        let server = withUnsafeBytes(of: &copy.server) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let seconds = formatSeconds(options.networkTimeout)
        let waiting = state.timed_out_reading != 0 ? "sent no TLS reply" : "stopped taking data"
        var message = "the server accepted the connection but did not complete the TLS handshake within \(seconds) s"
        message += " (it \(waiting))"
        // Name the server that stalled when the URI list names several.
        if !server.isEmpty, serverURI.contains(" ") { message = "\(server): " + message }
        return LDAPError(
            .timeout, resultCode: LDAPError.ResultCode.timeout, operation: operation, serverURI: serverURI,
            diagnosticMessage: message)
    }

    /// "3", "1.5": seconds for a message.
    static func formatSeconds(_ seconds: Double) -> String {
        if seconds == seconds.rounded(), abs(seconds) < 1e9 { return String(Int(seconds)) }
        return String((seconds * 10).rounded() / 10)
    }

    private static func stringOption(_ ld: OpaquePointer, _ option: Int32) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard ldap_get_option(ld, option, &value) == LDAP_OPT_SUCCESS, let value else { return nil }
        defer { ldap_memfree(value) }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }

    /// `seconds` as a `timeval`, clamped to [1 ms, `LDAPConnectionOptions.maximumTimeout`] first.
    ///
    /// `validate()` already refuses anything outside (0, a day]; the clamp makes the conversion
    /// safe by construction, since `Int(1e20)` or `Int(.nan)` would trap. Below 1 ms (and NaN)
    /// becomes 1 ms, as the handshake guard does, never 0, which libldap reads as "no limit" or refuses.
    static func timeval(seconds: Double) -> Glibc.timeval {
        let bounded = seconds >= 0.001 ? min(seconds, LDAPConnectionOptions.maximumTimeout) : 0.001
        let whole = bounded.rounded(.down)
        return Glibc.timeval(tv_sec: Int(whole), tv_usec: min(Int((bounded - whole) * 1_000_000), 999_999))
    }

    static func bytes(of value: berval) -> [UInt8] {
        guard let start = value.bv_val, value.bv_len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: Int(value.bv_len)))
    }

    /// The value as text (a DN, an attribute name: not NUL-terminated inside the BER), decoded in place.
    static func string(of value: berval) -> String {
        guard let start = value.bv_val, value.bv_len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: start, count: Int(value.bv_len)), as: UTF8.self)
    }

    /// The NULL-terminated `LDAPControl **` for a search: the paging control (if any) first, then
    /// `controls` in order; nil when there are none. Everything is freed when `body` returns, so
    /// the pointer must not escape; libldap encodes the controls during the call.
    ///
    /// A control without a value gets a null `bv_val`, which libldap encodes as no controlValue
    /// at all (Show Deleted takes none); an empty value is sent as an empty OCTET STRING.
    static func withServerControls<R>(
        _ controls: [LDAPServerControl], paging: UnsafeMutablePointer<LDAPControl>?,
        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<LDAPControl>?>?) throws -> R
    ) rethrows -> R {
        if controls.isEmpty && paging == nil { return try body(nil) }
        let built = UnsafeMutablePointer<LDAPControl>.allocate(capacity: max(controls.count, 1))
        var owned: [UnsafeMutableRawPointer] = []
        defer {
            for pointer in owned { free(pointer) }
            built.deallocate()
        }
        for (index, control) in controls.enumerated() {
            let oid = strdup(control.oid)!
            owned.append(UnsafeMutableRawPointer(oid))
            var value = berval(bv_len: 0, bv_val: nil)
            if let bytes = control.value {
                let copy = malloc(max(bytes.count, 1))!
                owned.append(copy)
                bytes.withUnsafeBytes {
                    if let base = $0.baseAddress { copy.copyMemory(from: base, byteCount: $0.count) }
                }
                value = berval(bv_len: ber_len_t(bytes.count), bv_val: copy.assumingMemoryBound(to: CChar.self))
            }
            (built + index).initialize(
                to: LDAPControl(ldctl_oid: oid, ldctl_value: value, ldctl_iscritical: control.isCritical ? 1 : 0))
        }
        var pointers: [UnsafeMutablePointer<LDAPControl>?] = []
        pointers.reserveCapacity(controls.count + 2)
        if let paging { pointers.append(paging) }
        for index in controls.indices { pointers.append(built + index) }
        pointers.append(nil)
        return try pointers.withUnsafeMutableBufferPointer { try body($0.baseAddress) }
    }

    /// A NULL-terminated `char **` for libldap; nil for an empty list. Do not escape the pointer.
    static func withCStringArray<R>(
        _ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) throws -> R
    ) rethrows -> R {
        if strings.isEmpty { return try body(nil) }
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return try pointers.withUnsafeMutableBufferPointer { try body($0.baseAddress) }
    }
}

@available(*, unavailable)
extension LDAPConnection: Sendable {}
