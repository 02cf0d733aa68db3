import ProvHookCore
import Testing

/// An actor's text is part of a journal row and of its hash chain: each rendering stays what earlier rows hold.
@Suite("Journal: actors render as the journal has always written them")
struct JournalActorTests {
    @Test("each kind of actor renders as before")
    func renderings() {
        let expected: [(JournalActor, String)] = [
            (.webhook(peer: "203.0.113.7"), "webhook:203.0.113.7"),
            (.source("kazoo-acme", peer: "203.0.113.7"), "source:kazoo-acme@203.0.113.7"),
            (.admin(peer: "127.0.0.1"), "admin:127.0.0.1"),
            (.cli(user: "alice"), "cli:alice"),
            (.importing(by: "alice"), "import:alice"),
            (.importing(by: JournalActor.admin(peer: "127.0.0.1").rawValue), "import:admin:127.0.0.1"),
            (.reconcile(by: "alice"), "reconcile:alice"),
            (.reconcile(by: "127.0.0.1"), "reconcile:127.0.0.1"),
            (.sync(source: "fusion"), "sync:fusion"),
            (.lookup(host: "pbx-gw"), "lookup:pbx-gw"),
            (.worker(instance: "host-1"), "worker:host-1"),
            (.bench("fill"), "bench:fill"),
        ]
        for (actor, text) in expected {
            #expect(actor.rawValue == text)
            #expect("\(actor)" == text)
            #expect(text.hasPrefix(actor.kind.rawValue + ":"), "the kind is what the text starts with")
        }
        #expect(Set(expected.map(\.0.kind)) == Set(JournalActor.Kind.allCases), "every kind is rendered above")
        let (before, after) = JournalActor.sourceAffixes
        #expect(JournalActor.source("s", peer: "p").rawValue == before + "s" + after + "p")
    }
}
