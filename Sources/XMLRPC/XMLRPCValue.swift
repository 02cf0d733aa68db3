import Foundation

/// One XML-RPC value, covering every type of the XML-RPC specification plus the common `nil` extension.
public enum XMLRPCValue: Sendable, Hashable {
    /// `<string>`, or an untyped `<value>text</value>`.
    case string(String)
    /// `<int>` or `<i4>` (32-bit), and the `<i8>` extension (64-bit).
    case int(Int)
    /// `<boolean>` with `0` or `1`.
    case bool(Bool)
    /// `<double>`, always finite.
    case double(Double)
    /// `<dateTime.iso8601>`, read and written as UTC.
    case dateTime(Date)
    /// `<base64>`.
    case base64([UInt8])
    /// `<array>`.
    case array([XMLRPCValue])
    /// `<struct>`; member names are unique.
    case `struct`([String: XMLRPCValue])
    /// `<nil/>`.
    case `nil`
}

extension XMLRPCValue {
    /// The name of this value's type, as XML-RPC spells it; used in error messages.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .int: "int"
        case .bool: "boolean"
        case .double: "double"
        case .dateTime: "dateTime.iso8601"
        case .base64: "base64"
        case .array: "array"
        case .struct: "struct"
        case .nil: "nil"
        }
    }

    /// The string, if this is a string value.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [XMLRPCValue]? {
        if case .array(let value) = self { return value }
        return nil
    }
}

extension XMLRPCValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension XMLRPCValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
}

extension XMLRPCValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension XMLRPCValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: XMLRPCValue...) { self = .array(elements) }
}

/// An XML-RPC `<fault>`: the server's typed refusal of a call.
public struct XMLRPCFault: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `faultCode` member.
    public var code: Int
    /// The `faultString` member.
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "XML-RPC fault \(self.code): \(self.message)" }
}

/// A decoded `<methodCall>`.
public struct XMLRPCMethodCall: Sendable, Hashable {
    /// The `<methodName>`.
    public var methodName: String
    /// The `<params>`, in order.
    public var params: [XMLRPCValue]

    public init(methodName: String, params: [XMLRPCValue]) {
        self.methodName = methodName
        self.params = params
    }
}

/// A decoded `<methodResponse>`: either one value or a fault.
public enum XMLRPCResponse: Sendable, Hashable {
    /// `<params><param><value>…</value></param></params>`.
    case value(XMLRPCValue)
    /// `<fault>…</fault>`.
    case fault(XMLRPCFault)
}
