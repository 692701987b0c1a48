// Hands received messages from the event loop to their one consumer, pausing reads while it lags.

import NIOCore
import Synchronization

/// A single-consumer queue of received text messages with read backpressure.
///
/// `AsyncThrowingStream`'s own continuation cannot tell the producer when the consumer catches
/// up, so a fast server could grow its buffer without bound. Here the event loop stops reading
/// from the socket once `highWatermark` messages wait, and the consumer turns reading back on
/// when it has drained them to `lowWatermark`; TCP flow control then slows the server.
final class MessageQueue: Sendable {
    private struct State {
        var messages = CircularBuffer<String>(initialCapacity: 16)
        var waiter: UnsafeContinuation<String?, any Error>?
        /// Set once the connection is over; an error is handed out once, then `nil` follows.
        var end: Result<Void, any Error>?
        var readingPaused = false
        /// The channel whose reads pause and resume; attached before any message arrives.
        var channel: (any Channel)?
    }

    static let highWatermark = 4096
    static let lowWatermark = 1024

    private let state = Mutex(State())

    func attach(_ channel: any Channel) {
        self.state.withLock { $0.channel = channel }
    }

    /// Called on the event loop for every received message; returns whether reading should pause.
    func push(_ message: String) -> Bool {
        let action: (UnsafeContinuation<String?, any Error>?, Bool) = self.state.withLock { state in
            if let waiter = state.waiter.take() {
                return (waiter, false)
            }
            state.messages.append(message)
            if !state.readingPaused && state.messages.count >= Self.highWatermark {
                state.readingPaused = true
                return (nil, true)
            }
            return (nil, false)
        }
        action.0?.resume(returning: message)
        return action.1
    }

    /// Ends the queue: the consumer gets the remaining messages, then `error` (if any), then `nil`.
    func finish(throwing error: (any Error)? = nil) {
        let waiter: UnsafeContinuation<String?, any Error>? = self.state.withLock { state in
            guard state.end == nil else { return nil }
            state.end = error.map { .failure($0) } ?? .success(())
            guard let waiter = state.waiter.take() else { return nil }
            state.end = .success(())
            return waiter
        }
        if let error {
            waiter?.resume(throwing: error)
        } else {
            waiter?.resume(returning: nil)
        }
    }

    private enum Next {
        case message(String, resumeReading: (any Channel)?)
        case end(Result<Void, any Error>)
        case wait
    }

    /// Takes the next message without waiting, if there is an answer already.
    private func poll(_ state: inout State) -> Next {
        if let message = state.messages.popFirst() {
            guard state.readingPaused && state.messages.count <= Self.lowWatermark else {
                return .message(message, resumeReading: nil)
            }
            state.readingPaused = false
            return .message(message, resumeReading: state.channel)
        }
        if let end = state.end {
            state.end = .success(())
            return .end(end)
        }
        return .wait
    }

    /// The next message, or `nil` once the connection is over and every message was taken.
    func next() async throws -> String? {
        switch self.state.withLock({ self.poll(&$0) }) {
        case .message(let message, let resumeReading):
            resumeReading?.resumeReading()
            return message
        case .end(let result):
            try result.get()
            return nil
        case .wait:
            return try await self.waitForNext()
        }
    }

    private func waitForNext() async throws -> String? {
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<String?, any Error>) in
                let next: Next = self.state.withLock { state in
                    let next = self.poll(&state)
                    if case .wait = next {
                        if Task.isCancelled { return .end(.failure(CancellationError())) }
                        state.waiter = continuation
                    }
                    return next
                }
                switch next {
                case .message(let message, let resumeReading):
                    resumeReading?.resumeReading()
                    continuation.resume(returning: message)
                case .end(let result):
                    continuation.resume(with: result.map { _ -> String? in nil })
                case .wait:
                    break
                }
            }
        } onCancel: {
            self.state.withLock { $0.waiter.take() }?.resume(throwing: CancellationError())
        }
    }
}

extension Channel {
    fileprivate func resumeReading() {
        // A channel that closed meanwhile has nothing left to read, so the outcome is moot.
        _ = self.setOption(ChannelOptions.autoRead, value: true)
    }
}
