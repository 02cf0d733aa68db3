/// Remembers which (id, nonce, ts) triples a server has seen, so a captured request cannot be replayed.
///
/// A timestamp is accepted while it is within the skew on either side of the server's clock, so a request can be
/// replayed for up to twice the skew after it was first seen; entries are kept that long and then dropped. The
/// cache holds at most `capacity` entries: when that many are live, new requests are refused rather than older
/// entries forgotten, since forgetting one would let its request be replayed.
public actor HawkReplayCache {
    /// How long an entry is kept, in seconds: twice the timestamp skew.
    public let retention: Int64
    /// The most entries kept at once.
    public let capacity: Int

    private struct Entry: Hashable {
        let id: String
        let nonce: String
        let timestamp: String
    }

    private var expiries: [Entry: Int64] = [:]
    /// Entries in the order they were added, which is the order they expire in; `head` is the oldest live one.
    private var queue: [(entry: Entry, expiry: Int64)] = []
    private var head = 0

    /// A cache for a server that allows `timestampSkew` seconds of skew.
    public init(timestampSkew: Int64 = 60, capacity: Int = 100_000) {
        self.retention = max(1, timestampSkew) * 2
        self.capacity = max(1, capacity)
    }

    /// The number of entries kept now.
    public var count: Int {
        self.expiries.count
    }

    /// Records a request's nonce; `false` when the same id, nonce and ts were seen within the retention, or when
    /// the cache is full.
    public func register(id: String, nonce: String, timestamp: String, now: Int64) -> Bool {
        self.evict(before: now)
        let entry = Entry(id: id, nonce: nonce, timestamp: timestamp)
        guard self.expiries[entry] == nil, self.expiries.count < self.capacity else { return false }
        let expiry = now + self.retention
        self.expiries[entry] = expiry
        self.queue.append((entry, expiry))
        return true
    }

    /// Drops entries whose retention has passed.
    private func evict(before now: Int64) {
        while self.head < self.queue.count, self.queue[self.head].expiry <= now {
            self.expiries[self.queue[self.head].entry] = nil
            self.head += 1
        }
        // Compacts once half the queue is dead, so the queue stays within twice the live entries.
        if self.head > 64, self.head * 2 > self.queue.count {
            self.queue.removeFirst(self.head)
            self.head = 0
        }
    }
}
