// Encodes outgoing WebSocket frames straight into one ByteBuffer each, masking while copying.

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import NIOWebSocket

/// Masking keys from the system's entropy source, fetched 64 at a time.
///
/// RFC 6455 wants a fresh, unpredictable key for every client frame. One `getentropy` call per
/// frame costs about half a microsecond here, which is a large share of a small message, so
/// keys are drawn in batches of 256 bytes (the most one call may return).
struct MaskingKeyPool: ~Copyable {
    private var keys = [UInt32](repeating: 0, count: 64)
    private var next = 64

    mutating func nextKey() -> UInt32 {
        if self.next == self.keys.count {
            let status = self.keys.withUnsafeMutableBytes { getentropy($0.baseAddress, $0.count) }
            precondition(status == 0, "getentropy failed: no source of masking keys")
            self.next = 0
        }
        defer { self.next += 1 }
        return self.keys[self.next]
    }
}

enum FrameWriter {
    /// Largest header a frame can have: two fixed bytes, an 8-byte length and a 4-byte key.
    static let maxHeaderSize = 14

    /// Returns one complete masked frame.
    static func frame(
        opcode: WebSocketOpcode,
        payload: UnsafeRawBufferPointer,
        maskingKey: UInt32,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: Self.maxHeaderSize + payload.count)
        buffer.writeFrameHeader(firstByte: 0x80 | UInt8(webSocketOpcode: opcode), length: payload.count, maskingKey: maskingKey)
        buffer.writeMasked(payload, key: maskingKey)
        return buffer
    }

    /// Encodes `frame` exactly as given: its flags, opcode and key, or no mask if it has none.
    static func encode(_ frame: WebSocketFrame, allocator: ByteBufferAllocator) -> ByteBuffer {
        let extensionData = frame.extensionData
        let length = frame.data.readableBytes + (extensionData?.readableBytes ?? 0)
        let key = frame.maskKey.map { UInt32($0[0]) << 24 | UInt32($0[1]) << 16 | UInt32($0[2]) << 8 | UInt32($0[3]) }
        var firstByte = UInt8(webSocketOpcode: frame.opcode) | frame.reservedBits.rawValue
        if frame.fin { firstByte |= 0x80 }

        var buffer = allocator.buffer(capacity: Self.maxHeaderSize + length)
        buffer.writeFrameHeader(firstByte: firstByte, length: length, maskingKey: key)
        let payloadStart = buffer.writerIndex
        if let extensionData { buffer.writeImmutableBuffer(extensionData) }
        buffer.writeImmutableBuffer(frame.data)
        if let key {
            buffer.withUnsafeMutableReadableBytes { bytes in
                let payload = UnsafeMutableRawBufferPointer(rebasing: bytes[payloadStart...])
                mask(from: UnsafeRawBufferPointer(payload), into: payload.baseAddress, key: key)
            }
        }
        return buffer
    }

    /// XORs `source` with the repeating 4-byte `key` (big-endian on the wire) into `destination`,
    /// eight bytes at a time; `source` and `destination` may be the same memory.
    static func mask(from source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawPointer?, key: UInt32) {
        guard let destination, let base = source.baseAddress else { return }
        let count = source.count
        // The key's bytes in memory order, so a native load/store lines up with the wire order.
        let keyInMemoryOrder = key.bigEndian
        let wide = UInt64(keyInMemoryOrder) | UInt64(keyInMemoryOrder) << 32
        var index = 0
        while index + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            destination.storeBytes(of: word ^ wide, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            let keyByte = UInt8(truncatingIfNeeded: key >> (24 - 8 * UInt32(index & 3)))
            destination.storeBytes(of: base.load(fromByteOffset: index, as: UInt8.self) ^ keyByte, toByteOffset: index, as: UInt8.self)
            index += 1
        }
    }
}

extension ByteBuffer {
    mutating func writeFrameHeader(firstByte: UInt8, length: Int, maskingKey: UInt32?) {
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        switch length {
        case 0...125:
            self.writeMultipleIntegers(firstByte, UInt8(length) | maskBit)
        case 126...Int(UInt16.max):
            self.writeMultipleIntegers(firstByte, 126 | maskBit, UInt16(length))
        default:
            self.writeMultipleIntegers(firstByte, 127 | maskBit, UInt64(length))
        }
        if let maskingKey { self.writeInteger(maskingKey) }
    }

    mutating func writeMasked(_ payload: UnsafeRawBufferPointer, key: UInt32) {
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: payload.count) { destination in
            FrameWriter.mask(from: payload, into: destination.baseAddress, key: key)
            return payload.count
        }
    }
}
