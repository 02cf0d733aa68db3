import CSV
import Crypto
import Foundation
import ProvisioningModel

/// A CSV file of devices to add (`provhook device import`, `POST /v1/devices/import`): a header naming the columns
/// `mac,device_id,extension,model` and optionally `vendor`, `serial`, `gigaset_code` and `tenant`, in any order, then one device per
/// row. Every row goes through the same planner and journal as a webhook's `device.added`.
public struct DeviceImportFile: Sendable {
    /// One device to add, from one row.
    public struct Row: Sendable, Hashable {
        /// The row's line in the file (the header is line 1).
        public var line: Int
        public var mac: MACAddress
        public var tenantID: String
        public var deviceID: String?
        public var extensionNumber: String?
        public var model: String?
        /// The phone's brand, from the `vendor` column, passed on as text (the planner decides the vendor from it).
        public var brand: String?
        /// The phone's serial number, from the `serial` column, checked (`DeviceSerial`).
        public var serial: String?
        /// The code printed on a Gigaset phone, from the `gigaset_code` column, checked (`GigasetCode`).
        public var gigasetCode: String?

        /// The idempotency key of this row's event: the same row imported again is a duplicate, a changed row a
        /// new event.
        var eventID: String {
            // The brand and the serial only when given, so that a file without their columns keeps the keys it had
            // before they existed. The serial is marked with U+0001, which no field holds (a control character is
            // refused), so that a brand alone and a serial alone never give one key; a Gigaset's code with U+0002.
            let content =
                ([tenantID, mac.canonical, deviceID ?? "", extensionNumber ?? "", model ?? ""]
                + (brand.map { [$0] } ?? []) + (serial.map { ["\u{1}" + $0] } ?? [])
                + (gigasetCode.map { ["\u{2}" + $0] } ?? []))
                .joined(separator: "\u{0}")
            return "import:" + SHA256.hash(data: Data(content.utf8)).hex.prefix(32)
        }

        /// The row as the `device.added` event a webhook would have sent.
        var event: DeviceEvent {
            .added(
                mac: mac, deviceID: deviceID, extensionNumber: extensionNumber, model: model, brand: brand,
                serial: serial, gigasetCode: gigasetCode)
        }

        /// The row as the event's stored payload.
        var payload: [UInt8] {
            var object: [String: JSONValue] = [
                "type": .string(DeviceEventType.added.rawValue), "mac": .string(mac.canonical),
                "device_id": deviceID.map(JSONValue.string) ?? .null,
                "extension": extensionNumber.map(JSONValue.string) ?? .null,
                "model": model.map(JSONValue.string) ?? .null, "line": .number(Double(line)),
            ]
            if let brand { object["vendor"] = .string(brand) }
            if let serial { object["serial"] = .string(serial) }
            if let gigasetCode { object["gigaset_code"] = .string(gigasetCode) }
            return Array(JSONValue.encodeObject(object).utf8)
        }
    }

    /// A row that is not imported, and why.
    public struct Refusal: Sendable, Hashable, Codable {
        /// The row's line in the file (the header is line 1).
        public var line: Int
        /// The MAC as the row wrote it, or as provhook stores it once parsed.
        public var mac: String
        public var reason: String
    }

    /// The file is not a device CSV at all (no header, an unknown column, not UTF-8).
    public struct Unreadable: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The largest file taken, in bytes.
    public static let maxBytes = 16 << 20
    /// The columns a file must name, and the optional ones.
    public static let requiredColumns = ["mac", "device_id", "extension", "model"]
    public static let optionalColumns = ["vendor", "serial", "gigaset_code", "tenant"]

    /// The rows that can be imported, in file order.
    public var rows: [Row]
    /// The rows refused for their content, in file order.
    public var refused: [Refusal]

    /// Reads `bytes`; `tenant` is for rows without a `tenant` column or with an empty one. A row that names
    /// another tenant than `tenant` is refused, so that `--tenant` always means "only this tenant".
    public init(bytes: [UInt8], tenant: String?) throws(Unreadable) {
        guard bytes.count <= Self.maxBytes else {
            throw Unreadable(description: "the file is larger than \(Self.maxBytes >> 20) MiB")
        }
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw Unreadable(description: "the file is not UTF-8")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true)
        } catch {
            throw Unreadable(description: "the file has no header row (\(Self.requiredColumns.joined(separator: ",")))")
        }
        let header = (reader.headerRow ?? []).map { $0.lowercased() }
        let known = Set(Self.requiredColumns + Self.optionalColumns)
        if let unknown = header.first(where: { !known.contains($0) }) {
            throw Unreadable(
                description: "unknown column \(unknown.debugDescription) in the header; the columns are "
                    + (Self.requiredColumns + Self.optionalColumns).joined(separator: ","))
        }
        let missing = Self.requiredColumns.filter { !header.contains($0) }
        guard missing.isEmpty else {
            throw Unreadable(description: "the header lacks the column(s) \(missing.joined(separator: ","))")
        }
        guard Set(header).count == header.count else {
            throw Unreadable(description: "the header names a column twice")
        }
        let column = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        var rows: [Row] = []
        var refused: [Refusal] = []
        var firstLine: [String: Int] = [:]
        var line = 1
        while let fields = reader.next() {
            line += 1
            if fields.allSatisfy(\.isEmpty) { continue }
            func field(_ name: String) -> String? {
                guard let index = column[name], index < fields.count, !fields[index].isEmpty else { return nil }
                return fields[index]
            }
            let macText = field("mac") ?? ""
            func refuse(_ reason: String, mac: String? = nil) {
                refused.append(Refusal(line: line, mac: mac ?? macText, reason: reason))
            }
            guard fields.count == header.count else {
                refuse("the row has \(fields.count) field(s); the header has \(header.count)")
                continue
            }
            guard let mac = MACAddress(macText) else {
                refuse(macText.isEmpty ? "no MAC" : "malformed MAC")
                continue
            }
            let rowTenant = field("tenant")
            guard let tenantID = rowTenant ?? tenant else {
                refuse("no tenant: give the tenant column or --tenant", mac: mac.canonical)
                continue
            }
            if let tenant, tenantID != tenant {
                refuse(
                    "the row is for tenant \(tenantID.debugDescription), not \(tenant.debugDescription)",
                    mac: mac.canonical)
                continue
            }
            let values = [
                "device_id": field("device_id"), "extension": field("extension"), "model": field("model"),
                "vendor": field("vendor"), "serial": field("serial"), "gigaset_code": field("gigaset_code"),
            ]
            // Counted in code points, as the webhooks and PostgreSQL's length() count them: "é" written as e +
            // U+0301 is two.
            if let (name, _) = values.sorted(by: { $0.key < $1.key }).first(where: {
                ($0.value?.unicodeScalars.count ?? 0) > 200
            }) {
                refuse("\(name) is longer than 200 characters", mac: mac.canonical)
                continue
            }
            if let (name, _) = values.sorted(by: { $0.key < $1.key }).first(where: {
                $0.value?.unicodeScalars.contains { $0.properties.generalCategory == .control } == true
            }) {
                refuse("\(name) holds a control character", mac: mac.canonical)
                continue
            }
            var serial: String?
            if let text = values["serial"] ?? nil {
                do {
                    serial = try DeviceSerial.normalized(text)
                } catch {
                    refuse("serial \(error.reason)", mac: mac.canonical)
                    continue
                }
            }
            var gigasetCode: String?
            if let text = values["gigaset_code"] ?? nil {
                do {
                    gigasetCode = try GigasetCode.normalized(text)
                } catch {
                    refuse("gigaset_code \(error.reason)", mac: mac.canonical)
                    continue
                }
            }
            if let earlier = firstLine[mac.canonical] {
                refuse("the MAC is on line \(earlier) already", mac: mac.canonical)
                continue
            }
            firstLine[mac.canonical] = line
            rows.append(
                Row(
                    line: line, mac: mac, tenantID: tenantID, deviceID: values["device_id"] ?? nil,
                    extensionNumber: values["extension"] ?? nil, model: values["model"] ?? nil,
                    brand: values["vendor"] ?? nil, serial: serial, gigasetCode: gigasetCode))
        }
        if let error = reader.error {
            throw Unreadable(description: "the file is not valid CSV after line \(line): \(error)")
        }
        self.rows = rows
        self.refused = refused
    }
}

/// What an import did, or would do with a dry run.
public struct DeviceImportResult: Sendable, Codable {
    /// Rows recorded as new events.
    public var accepted = 0
    /// Rows imported before, unchanged: nothing to do.
    public var duplicates = 0
    /// Rows refused: by the file's own checks, for an unknown tenant, or by the planner (a MAC another tenant
    /// holds), each with its line.
    public var refused: [DeviceImportFile.Refusal] = []
    /// Rows in the file, the header and empty lines aside.
    public var rows = 0
    /// True when nothing was written: a dry run, or a file with refused rows imported without `partial`.
    public var wroteNothing = false
    public var dryRun = false

    enum CodingKeys: String, CodingKey {
        case accepted, duplicates, refused, rows
        case wroteNothing = "wrote_nothing"
        case dryRun = "dry_run"
    }
}

extension Store {
    /// Imports the rows of `file`: each one a `device.added` event for its tenant, through `planner` and the
    /// journal like a webhook's, with `actor` (`import:<user>`), in the file's order and many to a commit
    /// (`Store.ingestAll`). A file with refused rows
    /// (malformed, or for an unknown tenant) imports nothing unless `partial`; the planner's own refusals (a MAC
    /// that another tenant holds) are known only row by row, and are reported with the rest. `progress` is called
    /// after each `batchSize` rows with the rows done so far.
    public func importDevices(
        _ file: DeviceImportFile, actor: String, planner: EventPlanner, partial: Bool, dryRun: Bool,
        batchSize: Int = 1_000, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws(StoreError) -> DeviceImportResult {
        var result = DeviceImportResult()
        result.rows = file.rows.count + file.refused.count
        result.dryRun = dryRun
        result.refused = file.refused
        let tenants = Set(try await self.tenants().map(\.id))
        let rows = file.rows.filter { row in
            guard tenants.contains(row.tenantID) else {
                result.refused.append(
                    .init(
                        line: row.line, mac: row.mac.canonical,
                        reason: "unknown tenant \(row.tenantID.debugDescription)"))
                return false
            }
            return true
        }
        result.refused.sort { $0.line < $1.line }
        guard !dryRun, partial || result.refused.isEmpty else {
            result.wroteNothing = true
            return result
        }
        var done = 0
        for start in stride(from: 0, to: rows.count, by: max(1, batchSize)) {
            let batch = rows[start..<min(start + max(1, batchSize), rows.count)]
            let outcomes = try await self.ingestRows(batch, actor: actor, planner: planner)
            for (row, outcome) in outcomes {
                switch outcome {
                case .accepted?: result.accepted += 1
                case .duplicate?: result.duplicates += 1
                case .refused(let rejection)?:
                    result.refused.append(.init(line: row.line, mac: row.mac.canonical, reason: rejection.description))
                case .ignored?, nil: break
                }
            }
            done += batch.count
            progress(done, rows.count)
        }
        result.refused.sort { $0.line < $1.line }
        return result
    }

    /// Ingests rows in their order; the first database failure ends the import with it.
    private func ingestRows(
        _ rows: ArraySlice<DeviceImportFile.Row>, actor: String, planner: EventPlanner
    ) async throws(StoreError) -> [(DeviceImportFile.Row, IntakeOutcome?)] {
        let batch = rows.map { row in
            BatchEvent(
                row.event, eventID: row.eventID, tenantID: row.tenantID, payload: row.payload, actor: actor,
                source: nil)
        }
        let outcomes = await Intake(store: self, planner: planner).recordAll(batch)
        var results: [(DeviceImportFile.Row, IntakeOutcome?)] = []
        for (row, outcome) in zip(rows, outcomes) {
            results.append((row, try outcome.get()))
        }
        return results
    }
}
