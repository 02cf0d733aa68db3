/// The delivery loop's calls claimed and planned but not yet sent, oldest first.
struct CallQueue: Sendable {
    private var calls: [DeliveryCall] = []
    private var head = 0

    var isEmpty: Bool { self.head == self.calls.count }
    var count: Int { self.calls.count - self.head }
    var first: DeliveryCall? { self.isEmpty ? nil : self.calls[self.head] }

    mutating func append(_ more: [DeliveryCall]) {
        if self.head > 0 {
            self.calls.removeFirst(self.head)
            self.head = 0
        }
        self.calls.append(contentsOf: more)
    }

    mutating func removeFirst() {
        precondition(!self.isEmpty)
        self.head += 1
    }

    /// Empties the queue, returning what it held.
    mutating func drain() -> [DeliveryCall] {
        defer { self = CallQueue() }
        return Array(self.calls[self.head...])
    }
}
