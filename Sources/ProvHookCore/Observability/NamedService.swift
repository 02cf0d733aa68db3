import ServiceLifecycle

/// A service of `serve` that describes itself by its type's name alone.
///
/// ServiceLifecycle logs every service it starts and stops by its description. A struct's default description
/// prints each stored property, and provhook's services hold the redirection password and the secret keyring: this
/// keeps them out of the log.
public protocol NamedService: Service, CustomStringConvertible {}

extension NamedService {
    public var description: String { String(describing: Self.self) }
}
