import Foundation
import Logging
import NIOHTTP1
import ProvisioningModel
import VendorHTTP

/// What the client found out about its account, kept between calls: each lookup costs two or more requests.
actor SRAPSCache {
    private(set) var resources: SRAPSAccountResources?
    private(set) var settingUUID: String?

    func store(_ resources: SRAPSAccountResources) { self.resources = resources }

    func store(settingUUID: String) { self.settingUUID = settingUUID }
}

/// The account's company and its endpoints collection, as the token's links name them.
struct SRAPSAccountResources: Sendable, Hashable {
    /// The absolute URL of the endpoints collection, ending with `/`.
    var endpointsURL: String
    /// The company's name, or its URL when it has none: what `redirection(of:)` reports as the holder.
    var companyName: String
}

extension SRAPSClient {
    /// The account's resources, from the cache or looked up.
    func resources() async throws(RedirectError) -> SRAPSAccountResources {
        if let cached = await self.cache.resources { return cached }
        let found = try await self.discoverResources()
        await self.cache.store(found)
        return found
    }

    /// The URL setting's uuid, from the cache or looked up.
    func settingUUID() async throws(RedirectError) -> String {
        if let cached = await self.cache.settingUUID { return cached }
        let found = try await self.discoverSettingUUID()
        await self.cache.store(settingUUID: found)
        return found
    }

    /// Looks the resources up again; true when they changed since `stale`, so that a call is worth repeating.
    func refreshResources(since stale: SRAPSAccountResources) async throws(RedirectError) -> Bool {
        let found = try await self.discoverResources()
        await self.cache.store(found)
        if found != stale {
            self.logger.notice(
                "SRAPS endpoints collection moved; using the new one",
                metadata: ["key_id": "\(self.configuration.keyID)"])
        }
        return found != stale
    }

    /// Whether the endpoints collection answers 404 (and the token's links now name another one, then cached).
    func collectionMoved(_ resources: SRAPSAccountResources) async throws(RedirectError) -> Bool {
        let answer = try await self.send(
            .GET, resources.endpointsURL + "?page_size=1", body: nil, maxBytes: self.configuration.maxPageBytes)
        guard answer.status == 404 else { return false }
        return try await self.refreshResources(since: resources)
    }

    /// Looks the URL setting up again; true when its uuid changed since `stale`.
    func refreshSetting(since stale: String) async throws(RedirectError) -> Bool {
        let found = try await self.discoverSettingUUID()
        await self.cache.store(settingUUID: found)
        return found != stale
    }

    /// Checks the key with one read of its token, `GET tokens/{key id}`: what `status` asks of an SRAPS account.
    public func checkKey() async throws(RedirectError) {
        let tokenURL = self.configuration.baseURL + "tokens/" + self.configuration.keyID
        let token = try await self.send(.GET, tokenURL, body: nil, maxBytes: self.configuration.maxResponseBytes)
        guard token.status == 200 else { throw SRAPSAnswers.unexpected(token, what: "the token") }
    }

    /// `GET tokens/{key id}` → `links.company`; `GET` that → `links.endpoints`. Links must stay on our origin.
    private func discoverResources() async throws(RedirectError) -> SRAPSAccountResources {
        let tokenURL = self.configuration.baseURL + "tokens/" + self.configuration.keyID
        let token = try await self.send(.GET, tokenURL, body: nil, maxBytes: self.configuration.maxResponseBytes)
        guard token.status == 200 else { throw SRAPSAnswers.unexpected(token, what: "the token") }
        let companyURL = try self.sameOriginLink(try SRAPSAnswers.link("company", in: token), what: "company")
        let company = try await self.send(.GET, companyURL, body: nil, maxBytes: self.configuration.maxResponseBytes)
        guard company.status == 200 else { throw SRAPSAnswers.unexpected(company, what: "the company") }
        var endpointsURL = try self.sameOriginLink(try SRAPSAnswers.link("endpoints", in: company), what: "endpoints")
        // The record URL is the collection's URL followed by the MAC (falconieri, ngcp).
        if !endpointsURL.hasSuffix("/") { endpointsURL += "/" }
        let name = SRAPSAnswers.string("name", in: company) ?? companyURL
        return SRAPSAccountResources(endpointsURL: endpointsURL, companyName: name)
    }

    /// Every page of `settings/?page_size=1000` until the service's URL setting is found (of its section, where the
    /// service has one).
    private func discoverSettingUUID() async throws(RedirectError) -> String {
        let service = self.configuration.service
        var found: String?
        var sectionsSeen: [String] = []
        try await self.readPages(from: self.configuration.baseURL + "settings/?page_size=1000") {
            answer throws(RedirectError) in
            for setting in try SRAPSAnswers.settingsPage(answer)
            where setting.paramName == service.urlSettingName && found == nil {
                sectionsSeen.append(setting.section ?? "none")
                if service.urlSettingSection == nil || setting.section == service.urlSettingSection {
                    found = setting.uuid
                }
            }
            return found == nil
        }
        guard let found else {
            throw .invalidResponse(
                "no setting \(service.urlSettingName)"
                    + (service.urlSettingSection.map { " in section \($0)" } ?? "") + " among the account's settings"
                    + (sectionsSeen.isEmpty ? "" : " (found it only in: \(sectionsSeen.joined(separator: ", ")))"))
        }
        return found
    }

    /// Reads a paginated collection: `GET` each page, hand it to `page`, follow `Link: <…>; rel="next"` while
    /// `page` returns true, at most `maxPages` pages, every link on our origin.
    func readPages(
        from first: String, _ page: (SRAPSAnswer) throws(RedirectError) -> Bool
    ) async throws(RedirectError) {
        var next: String? = first
        var count = 0
        while let url = next {
            count += 1
            guard count <= self.configuration.maxPages else {
                throw .invalidResponse("more than \(self.configuration.maxPages) pages at \(first)")
            }
            let answer = try await self.send(.GET, url, body: nil, maxBytes: self.configuration.maxPageBytes)
            guard answer.status == 200 else { throw SRAPSAnswers.unexpected(answer, what: "a page of \(first)") }
            guard try page(answer) else { return }
            if let link = SRAPSLinkHeader.next(answer.headers["Link"].joined(separator: ", ")) {
                next = try self.sameOriginLink(link, what: "next page")
            } else {
                next = nil
            }
        }
    }

    /// The link when it is an absolute URL on the base URL's origin; else the answer is refused, since following it
    /// would sign requests for another host with our key.
    func sameOriginLink(_ link: String, what: String) throws(RedirectError) -> String {
        guard (try? ServiceURL(link))?.origin == self.origin else {
            throw .invalidResponse("the \(what) link \(link.prefix(200)) is not on the service's origin")
        }
        return link
    }
}
