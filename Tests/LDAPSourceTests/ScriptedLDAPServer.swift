import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback LDAP server of a few lines: answers any bind with success, the root DSE with a
/// DC's attributes and every other search with `entries` (or what `answer` gives for its base and
/// scope), and records each request's bytes.
///
/// Enough to see what a client sends (filter, attributes, controls) without a DC. One client
/// connection at a time; stops by itself on `stop()` or when the client unbinds.
final class ScriptedLDAPServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var recorded: [[UInt8]] = []
    private let rootDSE: [(String, [String])]
    private let entries: [(dn: String, attributes: [(String, [String])])]
    private let answer: Answer?
    /// When set, a search that sends the paged results control gets `entries` this many at a time.
    private let pageSize: Int?

    typealias Entry = (dn: String, attributes: [(String, [String])])
    /// The entries for a search of `base` with `scope` (0 base, 1 one level, 2 subtree); nil: `entries`.
    typealias Answer = @Sendable (_ base: String, _ scope: Int) -> [Entry]?

    init(
        rootDSE: [(String, [String])], entries: [(dn: String, attributes: [(String, [String])])],
        answer: Answer? = nil, pageSize: Int? = nil
    ) throws {
        self.rootDSE = rootDSE
        self.entries = entries
        self.answer = answer
        self.pageSize = pageSize
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in serve() }.start()
    }

    /// The search requests received (whole LDAPMessages), in order.
    var searchRequests: [[UInt8]] { lock.withLock { recorded.filter { Self.operation(of: $0) == 0x63 } } }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)) }

    private func serve() {
        defer { close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            while let (message, used) = Self.message(in: buffer) {
                buffer.removeFirst(used)
                lock.withLock { recorded.append(message) }
                guard let reply = reply(to: message) else { return }
                _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            let count = recv(client, &chunk, chunk.count, 0)
            guard count > 0 else { return }
            buffer += chunk[0..<count]
        }
    }

    private func reply(to message: [UInt8]) -> [UInt8]? {
        guard let id = Self.messageID(of: message) else { return nil }
        switch Self.operation(of: message) {
        case 0x60:  // bindRequest
            return Self.tlv(0x30, Self.integer(id) + Self.tlv(0x61, Self.success))
        case 0x63:  // searchRequest: the root DSE for base "", else the entries
            let base = Self.searchBase(of: message) ?? ""
            var reply: [UInt8] = []
            var found =
                base == ""
                ? [(dn: "", attributes: rootDSE)] : answer?(base, Self.searchScope(of: message) ?? -1) ?? entries
            var done = Self.tlv(0x65, Self.success)
            if let pageSize, base != "", let paging = Self.pagingRequest(in: message) {
                // The cookie says where the next page starts ("page-8"); a size of 0 ends the search.
                let start = min(paging.start, found.count)
                let end = paging.size == 0 ? start : min(start + pageSize, found.count)
                let cookie = end < found.count && paging.size != 0 ? "page-\(end)" : ""
                found = Array(found[start..<end])
                let value = Self.tlv(0x30, Self.integer(0) + Self.octets(cookie))
                done += Self.tlv(0xA0, Self.tlv(0x30, Self.octets(Self.pagedResultsOID) + Self.tlv(0x04, value)))
            }
            for entry in found {
                var attributes: [UInt8] = []
                for (name, values) in entry.attributes {
                    attributes += Self.tlv(0x30, Self.octets(name) + Self.tlv(0x31, values.flatMap(Self.octets)))
                }
                reply += Self.tlv(
                    0x30, Self.integer(id) + Self.tlv(0x64, Self.octets(entry.dn) + Self.tlv(0x30, attributes)))
            }
            return reply + Self.tlv(0x30, Self.integer(id) + done)
        default:  // unbind, abandon: done
            return nil
        }
    }

    static let pagedResultsOID = "1.2.840.113556.1.4.319"

    /// The page size a search asks for and where its cookie (this server's "page-N") starts it;
    /// nil without the paged results control.
    static func pagingRequest(in message: [UInt8]) -> (size: Int, start: Int)? {
        guard let oid = message.firstRange(of: octets(pagedResultsOID)) else { return nil }
        // The control's value follows its OID (and criticality): OCTET STRING { SEQUENCE { size, cookie } }.
        var index = oid.upperBound
        if index < message.count, message[index] == 0x01 { index += 3 }
        guard let value = element(message, at: index), value.tag == 0x04,
            let sequence = element(message, at: value.start), let size = element(message, at: sequence.start),
            let cookie = element(message, at: size.end)
        else { return nil }
        let sizeValue = message[size.start..<size.end].reduce(0) { $0 << 8 | Int($1) }
        let text = String(decoding: message[cookie.start..<cookie.end], as: UTF8.self)
        return (sizeValue, text.hasPrefix("page-") ? Int(text.dropFirst(5)) ?? 0 : 0)
    }

    // MARK: BER, as little as LDAP needs

    private static let success: [UInt8] = [0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]

    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var length: [UInt8]
        if content.count < 0x80 {
            length = [UInt8(content.count)]
        } else {
            var bytes: [UInt8] = []
            var rest = content.count
            while rest > 0 {
                bytes.insert(UInt8(rest & 0xFF), at: 0)
                rest >>= 8
            }
            length = [0x80 | UInt8(bytes.count)] + bytes
        }
        return [tag] + length + content
    }

    static func octets(_ text: String) -> [UInt8] { tlv(0x04, Array(text.utf8)) }
    static func integer(_ value: Int) -> [UInt8] {
        value < 0x80 ? [0x02, 0x01, UInt8(value)] : [0x02, 0x02, UInt8(value >> 8), UInt8(value & 0xFF)]
    }

    /// (tag, content start, content end) of the element at `start`.
    static func element(_ bytes: [UInt8], at start: Int) -> (tag: UInt8, start: Int, end: Int)? {
        guard start + 2 <= bytes.count else { return nil }
        var length = Int(bytes[start + 1])
        var offset = start + 2
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard count <= 4, offset + count <= bytes.count else { return nil }
            length = bytes[offset..<offset + count].reduce(0) { $0 << 8 | Int($1) }
            offset += count
        }
        guard offset + length <= bytes.count else { return nil }
        return (bytes[start], offset, offset + length)
    }

    static func message(in buffer: [UInt8]) -> ([UInt8], Int)? {
        guard let outer = element(buffer, at: 0) else { return nil }
        return (Array(buffer[0..<outer.end]), outer.end)
    }

    static func messageID(of message: [UInt8]) -> Int? {
        guard let outer = element(message, at: 0), let id = element(message, at: outer.start) else { return nil }
        return message[id.start..<id.end].reduce(0) { $0 << 8 | Int($1) }
    }

    static func operation(of message: [UInt8]) -> UInt8? {
        guard let outer = element(message, at: 0), let id = element(message, at: outer.start),
            id.end < message.count
        else { return nil }
        return message[id.end]
    }

    static func searchBase(of message: [UInt8]) -> String? {
        guard let outer = element(message, at: 0), let id = element(message, at: outer.start),
            let operation = element(message, at: id.end), let base = element(message, at: operation.start)
        else { return nil }
        return String(decoding: message[base.start..<base.end], as: UTF8.self)
    }
}

extension ScriptedLDAPServer {
    /// The scope of a search request: 0 base, 1 one level, 2 subtree.
    static func searchScope(of message: [UInt8]) -> Int? {
        guard let outer = element(message, at: 0), let id = element(message, at: outer.start),
            let operation = element(message, at: id.end), let base = element(message, at: operation.start),
            let scope = element(message, at: base.end), scope.tag == 0x0A, scope.end > scope.start
        else { return nil }
        return Int(message[scope.start])
    }
}

extension Array where Element == UInt8 {
    /// Where `needle` starts in these bytes, if anywhere.
    func firstRange(of needle: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, needle.count <= count else { return nil }
        for start in 0...(count - needle.count) where self[start..<start + needle.count].elementsEqual(needle) {
            return start..<start + needle.count
        }
        return nil
    }
}
