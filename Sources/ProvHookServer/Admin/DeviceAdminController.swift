import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ProvHookCore
import ProvisioningModel

/// The admin API's devices beyond the listing: one device as `provhook device show` tells it, and the CSV import
/// of `provhook device import`, behind the same bearer token.
struct DeviceAdminController: Sendable {
    let store: Store
    let planner: EventPlanner

    func addRoutes(to group: RouterGroup<ProvHookRequestContext>) {
        group.get("devices/:mac", use: self.show)
            .post("devices", use: self.importCSV)
    }

    struct Detail: ResponseEncodable {
        var detail: DeviceDetail
        func encode(to encoder: any Encoder) throws { try self.detail.encode(to: encoder) }
    }

    @Sendable func show(request: Request, context: ProvHookRequestContext) async throws -> Detail {
        // The router hands the segment over percent-encoded (`00%3A04%3A13…` for colons).
        let text = (context.parameters.get("mac") ?? "").removingPercentEncoding ?? ""
        guard let mac = MACAddress(text) else { throw APIError.badRequest("malformed_mac", "not a MAC address") }
        let limit: Int
        if let given = request.uri.queryParameters["limit"] {
            guard let number = Int(String(given)), (1...10_000).contains(number) else {
                throw APIError.badRequest("invalid_query", "limit must be an integer from 1 to 10000")
            }
            limit = number
        } else {
            limit = 20
        }
        guard
            let detail = try await AdminController.answer({
                try await self.store.deviceDetail(mac, historyLimit: limit)
            })
        else {
            throw APIError(.notFound, code: "not_found", message: "provhook does not know \(mac.canonical)")
        }
        return Detail(detail: detail)
    }

    struct ImportAnswer: ResponseEncodable {
        var result: DeviceImportResult
        func encode(to encoder: any Encoder) throws { try self.result.encode(to: encoder) }
    }

    /// `POST /v1/devices` with a `text/csv` body: the file `provhook device import` reads, with `tenant`, `partial`
    /// and `dry_run` in the query. 200 with the per-row result, refused rows and all; 400 for a file that is not a
    /// device CSV; 415 for another content type.
    @Sendable func importCSV(request: Request, context: ProvHookRequestContext) async throws -> ImportAnswer {
        let type = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "text/csv" else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type", message: "POST /v1/devices takes text/csv")
        }
        let query = request.uri.queryParameters
        func flag(_ name: String) throws(APIError) -> Bool {
            switch query[Substring(name)] {
            case nil, "false": return false
            case "true": return true
            default: throw APIError.badRequest("invalid_query", "\(name) must be true or false")
            }
        }
        let (partial, dryRun) = (try flag("partial"), try flag("dry_run"))
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: DeviceImportFile.maxBytes)
        } catch {
            throw APIError(
                .contentTooLarge, code: "too_large", message: "the body exceeds \(DeviceImportFile.maxBytes) bytes")
        }
        let tenant = try AdminController.tenant(query)
        let file: DeviceImportFile
        do {
            file = try DeviceImportFile(bytes: Array(body.readableBytesView), tenant: tenant)
        } catch {
            throw APIError.badRequest("invalid_csv", error.description)
        }
        let actor = JournalActor.importing(by: context.adminActor).rawValue
        let result = try await AdminController.answer {
            try await self.store.importDevices(
                file, actor: actor, planner: self.planner, partial: partial, dryRun: dryRun)
        }
        return ImportAnswer(result: result)
    }
}
