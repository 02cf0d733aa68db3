import ProvHookTestSupport
import Testing

@testable import ProvHookCore

@Suite("SQL script splitting")
struct SQLScriptTests {
    @Test("statements split on top-level semicolons only")
    func splitting() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT ';');
            /* block; comment */ CREATE TABLE "b;c" (y int);
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'no; never';
            END;
            $$;
            SELECT $tag$ ; $ $$ $tag$, 'it''s; fine';
            -- trailing comment only
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 4)
        #expect(statements[0].hasSuffix("DEFAULT ';')"))
        #expect(statements[1].contains("\"b;c\""))
        #expect(statements[2].contains("RAISE EXCEPTION 'no; never';\nEND;\n$$"))
        #expect(statements[3] == "SELECT $tag$ ; $ $$ $tag$, 'it''s; fine'")
    }

    @Test("the shipped migrations split into their statements")
    func shipped() {
        let initial = Migration.embedded.first { $0.name == "0001_init.sql" }!
        let statements = SQLScript.statements(initial.sql)
        #expect(statements.contains { $0.hasPrefix("CREATE FUNCTION journal_refuse_change()") && $0.hasSuffix("$$") })
        #expect(statements.filter { $0.hasPrefix("CREATE TABLE") }.count == 4)
    }
}
