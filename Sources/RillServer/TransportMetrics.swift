// The transport's metrics: sockets open, and the updates and bytes sent to tabs.

import CoreMetrics

/// Made once per server; see `AppMetrics` in the core for the event path's.
struct TransportMetrics: Sendable {
    /// Sockets open now.
    let socketsOpen = Meter(label: "rill_sockets_open")
    /// Deltas written to sockets (hydrations and errors not counted).
    let deltasSent = Counter(label: "rill_deltas_sent_total")
    /// Deltas held back while the tab was not reading, merged into the one sent when it reads again.
    let deltasCoalesced = Counter(label: "rill_deltas_coalesced_total")
    /// Bytes of messages written to sockets.
    let bytesOut = Counter(label: "rill_socket_bytes_out_total")
}
