// Turns Swift identifiers into the snake_case wire names that browsers and the runtime exchange.

extension String {
    /// Acronyms stay one word (`parseHTTPResponse` → `parse_http_response`) because a run of
    /// capitals only ends where a lowercase letter starts the next word.
    var snakeCased: String {
        let characters = Array(self.strippingBackticks)
        var result = ""
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                let startsWord =
                    previous.isLowercase || previous.isNumber
                    || (previous.isUppercase && next?.isLowercase == true)
                if startsWord { result.append("_") }
            }
            result.append(contentsOf: character.lowercased())
        }
        return result
    }

    /// Backticks only let a keyword serve as a Swift name; they are not part of the name on the wire.
    var strippingBackticks: String {
        count > 1 && hasPrefix("`") && hasSuffix("`") ? String(dropFirst().dropLast()) : self
    }

    /// Builds `setCounter` from `counter`, the Swift-side name of a generated setter event.
    var setterName: String {
        let bare = strippingBackticks
        return "set" + bare.prefix(1).uppercased() + bare.dropFirst()
    }
}
