import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A throwaway certificate authority and a server certificate it signed, for serving a stand-in over real TLS.
///
/// Everything is generated in memory; nothing is read from disk and nothing is committed.
public struct PrivateCertificateAuthority: Sendable {
    /// The CA certificate, PEM: what a client adds to its trust roots.
    public let caCertificatePEM: String
    /// The server certificate, PEM, valid for `localhost` and `127.0.0.1`.
    public let serverCertificatePEM: String
    /// The server's private key, PEM (PKCS #8).
    public let serverPrivateKeyPEM: String

    /// Generates a CA named `commonName` and a server certificate for `localhost`, `127.0.0.1` and `::1`.
    public init(commonName: String = "provhook test CA", hostNames: [String] = ["localhost"]) throws {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("provhook")
            CommonName(commonName)
        }
        let caCertificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(caKey.publicKey),
            notValidBefore: now - 3600,
            notValidAfter: now + 86_400 * 30,
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(caKey.publicKey))
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )

        let serverKey = P256.Signing.PrivateKey()
        let serverName = try DistinguishedName {
            OrganizationName("provhook")
            CommonName(hostNames.first ?? "localhost")
        }
        var alternativeNames = hostNames.map { GeneralName.dnsName($0) }
        alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])))
        alternativeNames.append(
            .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))))
        let serverCertificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(serverKey.publicKey),
            notValidBefore: now - 3600,
            notValidAfter: now + 86_400 * 30,
            issuer: caName,
            subject: serverName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey)
        )

        self.caCertificatePEM = try caCertificate.serializeAsPEM().pemString
        self.serverCertificatePEM = try serverCertificate.serializeAsPEM().pemString
        self.serverPrivateKeyPEM = serverKey.pemRepresentation
    }

    /// The server side's TLS settings: the server certificate and its key.
    public func serverTLSConfiguration() throws -> TLSConfiguration {
        let certificate = try NIOSSLCertificate(bytes: Array(self.serverCertificatePEM.utf8), format: .pem)
        let key = try NIOSSLPrivateKey(bytes: Array(self.serverPrivateKeyPEM.utf8), format: .pem)
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
    }

    /// Runs `body` with the path of a temporary file holding `authority`'s CA certificate (what a client's CA-file
    /// setting names), or with nil for no authority, and removes the file afterwards.
    public static func withCAFile<T>(
        _ authority: PrivateCertificateAuthority?, _ body: (String?) async throws -> T
    ) async throws -> T {
        guard let authority else { return try await body(nil) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stand-in-ca-\(UUID()).pem").path
        try authority.caCertificatePEM.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }
}
