// Checks how Swift names become snake_case wire names, alone and inside an expansion.

@testable import RillMacros
import Testing

@Suite("Naming")
struct NamingTests {
    @Test(
        "Swift names become snake_case",
        arguments: [
            ("counter", "counter"),
            ("maxCounter", "max_counter"),
            ("URLValue", "url_value"),
            ("parseHTTPResponse", "parse_http_response"),
            ("value2", "value2"),
            ("value2Max", "value2_max"),
            ("MyTaskState", "my_task_state"),
            ("already_snake", "already_snake"),
            ("`default`", "default"),
        ]
    )
    func snakeCase(swiftName: String, wireName: String) {
        #expect(swiftName.snakeCased == wireName)
    }

    @Test(
        "setter names capitalize the var's first letter",
        arguments: [
            ("counter", "setCounter"),
            ("URLValue", "setURLValue"),
            ("`default`", "setDefault"),
        ]
    )
    func setterName(property: String, setter: String) {
        #expect(property.setterName == setter)
    }

    @Test("acronyms and digits carry through to the state, var and event wire names")
    func namesInExpansion() {
        assertRillExpansion(
            #"""
            @LiveState
            struct HTTPClientState {
                var URLValue = ""
                var value2 = 0
                mutating func parseHTTPResponse(_ body: String) {}
            }
            """#,
            expandedSource: #"""
            struct HTTPClientState {
                var URLValue = ""
                var value2 = 0
                mutating func parseHTTPResponse(_ body: String) {}

                static let $URLValue = Var(HTTPClientState.self, \.URLValue, "url_value")

                static let $value2 = Var(HTTPClientState.self, \.value2, "value2")

                static let stateInfo = StateInfo<HTTPClientState>(
                    name: "http_client_state",
                    parent: nil,
                    vars: [
                        .frontend("url_value", \.URLValue),
                        .frontend("value2", \.value2),
                    ],
                    handlers: [
                        "parse_http_response": .event { (payload: Payload) in
                            let body = try payload.decode(String.self, "body")
                            return { (state: inout HTTPClientState, scope: EventScope) in state.parseHTTPResponse(body) }
                        },
                        "set_url_value": .setter(\.URLValue),
                        "set_value2": .setter(\.value2),
                    ]
                )

                enum Events {
                    static let parseHTTPResponse = EventRef<String>(HTTPClientState.self, "parse_http_response", field: "body")
                    static let setURLValue = EventRef(HTTPClientState.self, "set_url_value", setting: \.URLValue)
                    static let setValue2 = EventRef(HTTPClientState.self, "set_value2", setting: \.value2)
                }

                static var event: Events.Type { Events.self }
            }

            extension HTTPClientState: LiveState {}
            """#
        )
    }
}
