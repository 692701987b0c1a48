// Code that imports Rill gets its JSON value type too: payloads, deltas and states are JSON.

@_exported import RillJSON
