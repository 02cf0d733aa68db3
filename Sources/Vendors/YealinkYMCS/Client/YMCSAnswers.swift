import Foundation
import ProvisioningModel
import VendorHTTP

/// YMCS's error body, `{code, error, requestId, message}`; the code is a string of digits (falconieri's
/// `libs/ymcs/errors.go`), read from a number too.
struct YMCSError: Decodable, Sendable {
    var code: String?
    var error: String?
    var message: String?

    enum CodingKeys: String, CodingKey { case code, error, message }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try? container.decodeIfPresent(String.self, forKey: .code) {
            self.code = text
        } else if let number = try? container.decodeIfPresent(Int.self, forKey: .code) {
            self.code = String(number)
        }
        self.error = try? container.decodeIfPresent(String.self, forKey: .error)
        self.message = try? container.decodeIfPresent(String.self, forKey: .message)
    }

    /// The error of an answer, when its body is one.
    static func of(_ answer: HTTPAnswer) -> YMCSError? { try? JSONDecoder().decode(Self.self, from: Data(answer.body)) }

    /// What the answer says, for an outcome kept verbatim: the code and the message.
    var text: String { [self.code, self.message ?? self.error].compactMap { $0 }.joined(separator: " ") }
}

/// What a YMCS refusal means for one MAC, from the codes YMCS documents (800001 invalid MAC, 800002 invalid SN,
/// 800003 exists, 800004 another organisation) or the words of a batch answer's `errorInfo`.
enum YMCSRefusal: Sendable, Hashable {
    case invalidMAC, invalidSerial, exists, otherOrganisation, notFound
    /// Registration by MAC alone is not enabled for the account: it needs each phone's serial number.
    case macOnlyNotEnabled
    case other(String)

    init(code: String?, text: String) {
        let lower = text.lowercased()
        switch code {
        case "800001": self = .invalidMAC
        case "800002": self = .invalidSerial
        case "800003": self = .exists
        case "800004": self = .otherOrganisation
        case "900501": self = .macOnlyNotEnabled
        case "900404": self = .notFound
        default:
            if lower.contains("800004") || lower.contains("another organization")
                || lower.contains("another organisation")
            {
                self = .otherOrganisation
            } else if lower.contains("800001") || lower.contains("invalid mac") {
                self = .invalidMAC
            } else if lower.contains("800002") || lower.contains("invalid sn") {
                self = .invalidSerial
            } else if lower.contains("800003") || lower.contains("already exist") {
                self = .exists
            } else if lower.contains("900404") || lower.contains("not found") || lower.contains("not exist") {
                self = .notFound
            } else {
                self = .other(text)
            }
        }
    }

    /// The refusal as provhook's outcome.
    var code: RedirectErrorCode {
        switch self {
        case .invalidMAC: .malformedMAC
        case .otherOrganisation: .ownedByOtherUser
        case .notFound: .noSuchMAC
        case .invalidSerial: .unknown("800002 invalid serial number")
        case .exists: .unknown("800003 the device exists")
        case .macOnlyNotEnabled: .serialRequired
        case .other(let text): .unknown(text)
        }
    }
}

/// `POST v2/rps/addDevicesByMac`'s answer: counts, and the MACs that failed with why.
struct YMCSBatchAnswer: Decodable, Sendable {
    struct Failure: Decodable, Sendable {
        var mac: String
        var errorInfo: String?
    }

    var total: Int?
    var successCount: Int?
    var failureCount: Int?
    var errors: [Failure]?
}

/// `POST v2/rps/delDevices`'s answer; its failures name the device in `field`.
struct YMCSDeleteAnswer: Decodable, Sendable {
    struct Failure: Decodable, Sendable {
        var field: String?
        var msg: String?
    }

    var total: Int?
    var successCount: Int?
    var failureCount: Int?
    var errors: [Failure]?
}

/// One device of `POST v2/rps/listDevices`.
struct YMCSDevice: Decodable, Sendable {
    var id: String
    var mac: String
    var sn: String?
    var serverURL: String?
    var uniqueServerURL: String?

    enum CodingKeys: String, CodingKey {
        case id, mac, sn
        case serverURL = "serverUrl"
        case uniqueServerURL = "uniqueServerUrl"
    }
}

/// A page of `POST v2/rps/listDevices`.
struct YMCSDevicePage: Decodable, Sendable {
    var skip: Int?
    var limit: Int?
    var total: Int?
    var data: [YMCSDevice]
}

/// `POST v2/token`'s answer.
struct YMCSToken: Decodable, Sendable {
    var accessToken: String
    var expiresIn: Int

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case expiresIn = "expires_in"
    }
}
