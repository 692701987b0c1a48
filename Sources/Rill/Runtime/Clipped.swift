// Text from a client made safe to quote in an error or a log line: escaped and bounded.

extension String {
    /// The text as an error or a log line may quote it: control and formatting characters are
    /// written as escapes (`\n`, `\u{1B}`), so a name cannot forge a log line or colour a
    /// terminal, and past `limit` characters it is cut with a note of how many bytes followed.
    package func clipped(_ limit: Int = 120) -> String {
        var result = ""
        var kept = 0
        var index = unicodeScalars.startIndex
        while index != unicodeScalars.endIndex, kept < limit {
            let scalar = unicodeScalars[index]
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\\": result += "\\\\"
            default:
                let category = scalar.properties.generalCategory
                if category == .control || category == .format || category == .lineSeparator || category == .paragraphSeparator {
                    result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
            kept += 1
            index = unicodeScalars.index(after: index)
        }
        if index != unicodeScalars.endIndex {
            result += "…(\(utf8.distance(from: index, to: utf8.endIndex)) more bytes)"
        }
        return result
    }
}
