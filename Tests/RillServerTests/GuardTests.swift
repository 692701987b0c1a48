// The server's guards as plain functions: host names, close codes, quoting client text, the log budget.

@testable import Rill
@testable import RillServer
import HTTPTypes
import Testing

@Suite struct GuardTests {
    @Test func onlyLoopbackAndTheBoundAddressAreServedByDefault() {
        let configuration = ServerConfiguration(host: "10.1.2.3")
        for allowed in ["127.0.0.1:8000", "localhost", "LOCALHOST:80", "[::1]:8000", "::1", "10.1.2.3:8000"] {
            #expect(configuration.hostAllowed(allowed), "\(allowed)")
        }
        for refused in ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "", "[::2]:80"] {
            #expect(!configuration.hostAllowed(refused), "\(refused)")
        }
        #expect(!configuration.hostAllowed(nil))
    }

    @Test func listedHostsAddToTheDefaultsAndAStarAllowsAny() {
        let listed = ServerConfiguration(allowedHosts: ["shop.example"])
        #expect(listed.hostAllowed("SHOP.example:443"))
        #expect(listed.hostAllowed("127.0.0.1:8000"))
        #expect(!listed.hostAllowed("other.example"))
        #expect(ServerConfiguration(allowedHosts: ["*"]).hostAllowed("anything.example"))
    }

    @Test func imageSourcesAreSchemesOrOriginsAndNothingThatCouldBendThePolicy() throws {
        for allowed in ["https:", "http:", "https://cdn.example.com", "https://*.example.com", "http://127.0.0.1:9000"] {
            #expect(ServerConfiguration.isImageSource(allowed), "\(allowed)")
        }
        for refused in ["*", "data:", "https://a.com; script-src *", "https://a.com/x", "'unsafe-inline'", "https://", "https://a*.com", "javascript:"] {
            #expect(!ServerConfiguration.isImageSource(refused), "\(refused)")
        }
        let headers = Assets.securityHeaders(imageSources: ["https://cdn.example.com"])
        #expect(headers[HTTPField.Name("Content-Security-Policy")!]?.contains("img-src 'self' data: https://cdn.example.com;") == true)
        #expect(throws: (any Error).self) { try ServerOptions.parse(["--image-source", "https://a.com; script-src *"]).configuration(environment: [:]) }
        #expect(try ServerOptions.parse(["--image-source", "https:"]).configuration(environment: [:]).imageSources == ["https:"])
    }

    @Test func closeCodesAPeerMaySend() {
        for valid: UInt16 in [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4001, 4999] {
            #expect(SocketHandler.isValidCloseCode(valid), "\(valid)")
        }
        for invalid: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            #expect(!SocketHandler.isValidCloseCode(invalid), "\(invalid)")
        }
    }

    @Test func clientTextIsEscapedAndBounded() {
        #expect("plain.name".clipped() == "plain.name")
        #expect("a\nFORGED\r\u{1B}[31m".clipped() == "a\\nFORGED\\r\\u{1B}[31m")
        #expect("\u{202E}rtl\u{2028}".clipped() == "\\u{202E}rtl\\u{2028}")
        let huge = String(repeating: "x", count: 1_000_000)
        #expect(huge.clipped(10) == "xxxxxxxxxx…(999990 more bytes)")
        #expect(UnknownEventError(event: huge).description.utf8.count < 300)
    }

    @Test func aTabsFailuresWriteAFewLinesPerWindowAndCountTheRest() {
        let budget = LogBudget<Token>(lines: 2, window: .seconds(3600))
        let token = Token.random()
        #expect(budget.take(token) == (true, 0))
        #expect(budget.take(token) == (true, 0))
        #expect(budget.take(token).allowed == false)
        #expect(budget.take(token).allowed == false)
        #expect(budget.take(Token.random()) == (true, 0), "another tab has its own budget")
    }

    @Test func theNextWindowsFirstLineCountsWhatWasDropped() async throws {
        let budget = LogBudget<Token>(lines: 1, window: .milliseconds(50))
        let token = Token.random()
        #expect(budget.take(token) == (true, 0))
        #expect(budget.take(token).allowed == false)
        #expect(budget.take(token).allowed == false)
        try await Task.sleep(for: .milliseconds(60))
        #expect(budget.take(token) == (true, 2))
    }
}
