import Codecs
import Foundation

/// The encoders behind `MailMessage`: RFC 2045 bodies, RFC 2047 header words, RFC 2231 parameters.
enum MIME {
    static let lineLimit = 78

    static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value > 0x20 && scalar.value < 0x7F && !"()<>@,;:\\\"/[]?=".unicodeScalars.contains(scalar)
    }

    static func isAtomCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value > 0x20 && scalar.value < 0x7F && !"()<>[]:;@\\,.\"".unicodeScalars.contains(scalar)
    }

    /// Quoted-printable (RFC 2045 section 6.7): any line end in the input becomes CRLF, lines stay
    /// within 76 characters with soft breaks, trailing blanks and `=` are escaped.
    static func quotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8 + 16)
        var lineLength = 0
        func emit(_ chunk: [UInt8]) {
            if lineLength + chunk.count > 75 {  // leave room for the soft break's "="
                out += [61, 13, 10]
                lineLength = 0
            }
            out += chunk
            lineLength += chunk.count
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let lineEnd = ASCII.lineEndLength(bytes, at: index)
            if lineEnd > 0 {
                out += [13, 10]
                lineLength = 0
                index += lineEnd
                continue
            }
            let nextIsLineEnd = index + 1 == bytes.count || ASCII.isLineEnd(bytes[index + 1])
            let literal = (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !nextIsLineEnd)
            emit(literal ? [byte] : [61, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            index += 1
        }
        return out
    }

    /// Base64 in lines of 76 characters, each ending in CRLF, encoded straight into the part's buffer.
    static func base64Lines(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        Base64.encode(bytes, into: &out, lineLength: Base64.mimeLineLength)
        return out
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    /// `Name: word word`, folded with CRLF SP before a word that would pass 78 characters.
    static func foldedHeader(_ name: String, _ words: [String]) -> String {
        var result = name + ":"
        var lineLength = result.count
        for word in words {
            if lineLength + 1 + word.count > lineLimit && lineLength > name.count + 1 {
                result += "\r\n "
                lineLength = 1
            } else {
                result += " "
                lineLength += 1
            }
            result += word
            lineLength += word.count
        }
        return result
    }

    /// RFC 2047 B-encoded words of at most 64 characters each, never splitting a character.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 39 {  // 39 bytes = 52 base64 characters + 12 of framing
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(encodedWord(chunk)) }
        return words
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        var word = Array("=?UTF-8?B?".utf8)
        word.reserveCapacity(word.count + Base64.encodedCount(bytes.count) + 2)
        Base64.encode(bytes, into: &word)
        word += "?=".utf8
        return String(decoding: word, as: UTF8.self)
    }

    /// The words of an unstructured header (the subject): as typed when it is plain ASCII that
    /// folds cleanly, encoded words otherwise.
    static func unstructuredWords(_ text: String) -> [String] {
        let plain =
            text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && !text.contains("=?")
            && !text.hasPrefix(" ") && !text.hasSuffix(" ") && !text.contains("  ")
        let words = text.split(separator: " ").map(String.init)
        if plain && words.allSatisfy({ $0.count <= 60 }) { return words }
        return encodedWords(text)
    }

    /// The words of an address list: each mailbox as `Name <a@x>` or `a@x`, commas between.
    static func addressWords(_ addresses: [MailAddress]) -> [String] {
        var words: [String] = []
        for (index, mailbox) in addresses.enumerated() {
            var mailboxWords: [String] = []
            if let name = mailbox.displayName {
                mailboxWords = phraseWords(name)
                mailboxWords.append("<\(mailbox.address)>")
            } else {
                mailboxWords = [mailbox.address]
            }
            if index + 1 < addresses.count { mailboxWords[mailboxWords.count - 1] += "," }
            words += mailboxWords
        }
        return words
    }

    /// A display name: atoms when it is plain words, a quoted string when it holds specials, encoded
    /// words when it is not ASCII or too long to fold.
    private static func phraseWords(_ name: String) -> [String] {
        let words = name.split(separator: " ", omittingEmptySubsequences: false)
        if words.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(isAtomCharacter) }) && !name.contains("=?")
            && words.allSatisfy({ $0.count <= 60 })
        {
            return words.map(String.init)
        }
        if name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && name.count <= 60
            && !name.contains("=?")
        {
            return [
                "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    + "\""
            ]
        }
        return encodedWords(name)
    }

    /// `name="file.csv"` for short plain names; RFC 2231 `name*0*=utf-8''...` pieces otherwise.
    static func fileNameParameters(_ parameter: String, _ fileName: String) -> [String] {
        let plain = fileName.unicodeScalars.allSatisfy {
            $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\"
        }
        if plain && fileName.count <= 60 { return ["\(parameter)=\"\(fileName)\""] }
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        var pieces: [String] = []
        var current = "utf-8''"
        for byte in fileName.utf8 {
            let scalar = Unicode.Scalar(byte)
            let encoded =
                byte < 0x80 && isTokenCharacter(scalar) && scalar != "*" && scalar != "'" && scalar != "%"
                ? String(scalar) : "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            if current.count + encoded.count > 50 {
                pieces.append(current)
                current = ""
            }
            current += encoded
        }
        pieces.append(current)
        if pieces.count == 1 { return ["\(parameter)*=\(pieces[0])"] }
        return pieces.enumerated().map { index, piece in
            "\(parameter)*\(index)*=\(piece)" + (index + 1 < pieces.count ? ";" : "")
        }
    }
}
