// Vars kept in the browser (localStorage or a cookie) as well as in the tab's state, and synced when a tab connects.

/// A var that the browser also keeps, in `localStorage` or in a cookie, so it outlives the tab's
/// state: a theme, a language, a dismissed banner. Reflex's `rx.LocalStorage` and `rx.Cookie`.
///
/// A state lists its stored vars in `browserStorage`:
///
/// ```swift
/// @LiveState
/// struct PrefsState {
///     var theme = "light"
///     var language = "en"
///     static let browserStorage = [
///         BrowserStorage.local(Self.$theme, key: "theme"),
///         BrowserStorage.cookie(Self.$language, name: "lang", maxAge: .seconds(365 * 86_400)),
///     ]
/// }
/// ```
///
/// When a tab connects, the page sends the values it has stored, and they are set in the
/// tab's state (in the tab's event queue, before anything the person does); from then on each
/// change of the var is written back to the browser. A stored value that does not fit the var's
/// type is refused with an error naming the var, and the var keeps its value. A value is at
/// most ``maxCookieBytes`` in a cookie and ``maxLocalBytes`` in `localStorage`, as JSON; a
/// larger one is not stored.
///
/// A cookie is sent with every request to the site (a handler sees it in the socket request's
/// `cookie` header, ``RouterData/headers``); it is not `HttpOnly` (the page writes it), so it is
/// no place for secrets. Only stored vars may be kept (not computed ones): the app stops at
/// start with a message naming any other.
public struct BrowserStorage: Sendable, Equatable {
    /// Where the browser keeps the value.
    public enum Place: String, Sendable {
        /// `localStorage`: this browser, this site, until cleared.
        case local
        /// A cookie for the whole site (`Path=/`, `SameSite=Lax`).
        case cookie
    }

    /// The var, as `state_full_name.var_name`.
    public let path: String
    /// Where it is kept.
    public let place: Place
    /// The `localStorage` key or the cookie's name.
    public let key: String
    /// How long a cookie lives.
    public let maxAge: Duration?

    /// The largest value a cookie holds, as JSON text (browsers keep about 4 KiB per cookie).
    public static let maxCookieBytes = 3072
    /// The largest value kept in `localStorage`, as JSON text.
    public static let maxLocalBytes = 64 << 10

    /// Keeps `variable` in `localStorage` under `key`.
    public static func local<Value>(_ variable: Var<Value>, key: String) -> BrowserStorage {
        BrowserStorage(path: variable.path, place: .local, key: key, maxAge: nil)
    }

    /// Keeps `variable` in a cookie named `name` that lives `maxAge` (a year by default).
    public static func cookie<Value>(_ variable: Var<Value>, name: String, maxAge: Duration = .seconds(365 * 86_400)) -> BrowserStorage {
        precondition(
            !name.isEmpty && name.utf8.allSatisfy { (0x21...0x7E).contains($0) && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) },
            "cookie name '\(name)' must be a token: printable ASCII without separators")
        return BrowserStorage(path: variable.path, place: .cookie, key: name, maxAge: maxAge)
    }

    /// The largest value this place holds.
    var maxBytes: Int { place == .cookie ? Self.maxCookieBytes : Self.maxLocalBytes }

    /// The size of `value` as plain JSON text, as the page measures it: the serializer's
    /// HTML-safe escapes of `<`, `>` and `&` count as the one byte each they stand for.
    static func size(of value: JSON) -> Int {
        let text = value.serialized()
        let escapes = text.utf8.count - text.replacing("\\u003c", with: "").replacing("\\u003e", with: "")
            .replacing("\\u0026", with: "").utf8.count
        return text.utf8.count - escapes / 6 * 5
    }

    /// What the page object lists for the runtime.
    var json: JSON {
        var object: [String: JSON] = ["var": .string(path), "place": .string(place.rawValue), "key": .string(key), "max": .int(maxBytes)]
        if let maxAge { object["maxAge"] = .int(Int(maxAge.components.seconds)) }
        return .object(object)
    }
}

/// A stored value the page sent does not fit: not a stored var, too large, or not of the var's type.
public struct BrowserStorageError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What was wrong.
    public let problem: String

    public var description: String { "stored browser value refused: \(problem)" }
}
