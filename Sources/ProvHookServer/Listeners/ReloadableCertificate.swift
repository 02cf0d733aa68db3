import Logging
import NIOCore
import NIOSSL
import ProvHookCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The webhook listener's certificate chain and private key, read from PEM files and read again on SIGHUP.
///
/// Every TLS handshake takes the pair in force when it starts, so a renewed certificate is served from the next
/// connection on without a restart. A reload that fails (a file missing, a key that does not match the
/// certificate) keeps the pair in force and says why.
public final class ReloadableCertificate: Sendable {
    public let files: TLSFiles
    private let current: Mutex<Credentials>

    struct Credentials: Sendable {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
    }

    /// Reads the pair, or fails with an error that names the file and holds nothing of the key.
    public init(files: TLSFiles) throws(CertificateError) {
        self.files = files
        self.current = Mutex(try Self.read(files))
    }

    /// Reads the files again; on failure the pair in force stays.
    public func reload() throws(CertificateError) {
        let credentials = try Self.read(self.files)
        self.current.withLock { $0 = credentials }
    }

    /// A server configuration (TLS 1.2 or later) whose handshakes each use the pair in force.
    func serverConfiguration() -> TLSConfiguration {
        let initial = self.current.withLock { $0 }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: initial.chain.map { .certificate($0) }, privateKey: .privateKey(initial.key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.sslContextCallback = { [self] _, promise in
            let credentials = self.current.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = credentials.chain.map { .certificate($0) }
            override.privateKey = .privateKey(credentials.key)
            promise.succeed(override)
        }
        return configuration
    }

    private static func read(_ files: TLSFiles) throws(CertificateError) -> Credentials {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath)
        } catch {
            throw CertificateError(file: files.certificatePath, reason: "is not a readable PEM certificate chain")
        }
        guard !chain.isEmpty else {
            throw CertificateError(file: files.certificatePath, reason: "holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.keyPath, format: .pem)
        } catch {
            throw CertificateError(file: files.keyPath, reason: "is not a readable PEM private key")
        }
        // A context checks that the key belongs to the leaf certificate.
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch {
            throw CertificateError(
                file: files.keyPath, reason: "does not match the certificate in \(files.certificatePath)")
        }
        return Credentials(chain: chain, key: key)
    }
}

/// Why a certificate or key could not be used; names the file, never its contents.
public struct CertificateError: Error, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "TLS: \(self.file) \(self.reason)" }
}

/// Reloads the certificate on every SIGHUP until the service group shuts down.
struct CertificateReloadService: NamedService {
    let certificate: ReloadableCertificate
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                try self.certificate.reload()
                self.logger.notice(
                    "TLS certificate reloaded", metadata: ["certificate": "\(self.certificate.files.certificatePath)"])
            } catch {
                self.logger.error(
                    "TLS certificate not reloaded; the previous one stays", metadata: ["error": "\(error)"])
            }
        }
    }
}
