// Reads a server's CPU time and resident memory from /proc, summed over the process and its descendants.

import Foundation

/// CPU and memory of a process tree: Reflex's granian serves from a child of the process the
/// bench script starts, so the whole tree is what a server costs.
struct ProcessTree {
    let root: Int32

    /// User plus system CPU time so far, in seconds.
    func cpuSeconds() -> Double {
        let ticks = self.members().reduce(0) { $0 + (Self.stat($1).map { $0.utime + $0.stime } ?? 0) }
        return Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory in bytes (`VmRSS`).
    func residentBytes() -> Int {
        self.members().reduce(0) { total, pid in
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                let kB = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
            else { return total }
            return total + kB * 1024
        }
    }

    /// The root and every process below it.
    private func members() -> [Int32] {
        var parent: [Int32: [Int32]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in entries.compactMap(Int32.init) {
            if let stat = Self.stat(pid) { parent[stat.ppid, default: []].append(pid) }
        }
        var tree = [self.root]
        var index = 0
        while index < tree.count {
            tree += parent[tree[index]] ?? []
            index += 1
        }
        return tree
    }

    /// Fields of `/proc/<pid>/stat`; the command name may hold spaces, so fields count from its `)`.
    private static func stat(_ pid: Int32) -> (ppid: Int32, utime: Int, stime: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the name: state(0) ppid(1) ... utime(11) stime(12).
        guard fields.count > 12, let ppid = Int32(fields[1]), let utime = Int(fields[11]), let stime = Int(fields[12]) else { return nil }
        return (ppid, utime, stime)
    }
}
