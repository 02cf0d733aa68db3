import Foundation

/// The OpenAPI 3.1 description of provhook's HTTP interface, served at `/openapi.yaml` on the admin listener when
/// the admin API is on. The webhook route names its own server: the webhook listener.
/// A test checks it against the routes the server answers and validates it as OpenAPI.
enum OpenAPIDocument {
    /// The document with the webhook listener's URL as its webhook paths' server (when known; else the default
    /// listener's).
    static func yaml(webhookListener url: String?) -> String {
        guard let url else { return Self.yaml }
        return Self.yaml.replacingOccurrences(
            of: Self.defaultWebhookListener, with: "webhookListener: {default: \(url.debugDescription)}")
    }

    /// The webhook paths' server in the document as written: the default `PROVHOOK_LISTEN`.
    static let defaultWebhookListener = #"webhookListener: {default: "http://127.0.0.1:8080"}"#

    static let yaml = #"""
        openapi: 3.1.0
        info:
          title: provhook
          version: "1"
          description: >-
            Webhook listener and admin API of provhook, which provisions Snom phones through the Snom redirection
            service. Webhooks go to the webhook listener (PROVHOOK_LISTEN), which answers nothing else but
            /healthz; everything else is on the admin listener (PROVHOOK_ADMIN_LISTEN, by default
            http://127.0.0.1:9090), which serves this document. The /v1 admin routes need
            `Authorization: Bearer <PROVHOOK_ADMIN_TOKEN>`.
        components:
          securitySchemes:
            adminToken:
              type: http
              scheme: bearer
          schemas:
            Error:
              type: object
              required: [error]
              properties:
                error:
                  type: object
                  required: [code, message]
                  properties:
                    code: {type: string}
                    message: {type: string}
            Tenant:
              type: object
              required: [id, name, url_template, allow_bearer, created_at, updated_at]
              properties:
                id: {type: string}
                name: {type: string}
                url_template: {type: string}
                allow_bearer: {type: boolean}
                mac_prefixes: {type: array, items: {type: string, pattern: '^[0-9A-F]{1,12}$'}, description: 'the MAC ranges the tenant may claim; absent: any'}
                account: {type: string, description: the redirection account its devices are registered with}
                created_at: {type: string, format: date-time}
                updated_at: {type: string, format: date-time}
                removed_at: {type: string, format: date-time}
            TenantID:
              type: string
              description: 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit
              pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'
            TenantName:
              type: string
              description: 1 to 200 characters (code points), no control characters
              minLength: 1
              maxLength: 200
              pattern: '^[^\x00-\x1F\x7F-\x9F]*$'
            URLTemplate:
              type: string
              description: >-
                an absolute http, https, ftp or tftp URL of at most 2000 characters (code points), without spaces,
                control characters or credentials (user:password@), with a host; <mac> becomes the MAC as 12
                uppercase hex digits
              maxLength: 2000
              pattern: '^([hH][tT][tT][pP][sS]?|[fF][tT][pP]|[tT][fF][tT][pP])://(\[[^\x00-\x20\x7F/?#@<]*|[^\x00-\x20\x7F/?#@<\[:][^\x00-\x20\x7F/?#@<:]*(:[^\x00-\x20\x7F/?#@]*)?)([/?#][^\x00-\x20\x7F]*)?$'
            MACPrefixes:
              type: [array, 'null']
              description: >-
                hex prefixes (1 to 12 digits, ':', '-' or '.' between them allowed) of the MACs the tenant may claim;
                a webhook that would register another MAC is refused (mac_not_allowed). An empty list lifts the
                restriction
              maxItems: 100
              items: {type: string, pattern: '^[:.-]*([0-9A-Fa-f][:.-]*){1,12}$'}
            MAC:
              type: string
              description: 12 hex digits, or 6 pairs separated by ':' or '-', or 3 groups of 4 separated by '.'
              pattern: '^([0-9A-Fa-f]{12}|[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})$'
            TenantCreate:
              type: object
              required: [id, url_template]
              description: an optional field that is null counts as absent
              properties:
                id: {$ref: '#/components/schemas/TenantID'}
                url_template: {$ref: '#/components/schemas/URLTemplate'}
                name: {oneOf: [{$ref: '#/components/schemas/TenantName'}, {type: 'null'}]}
                allow_bearer: {type: [boolean, 'null']}
                mac_prefixes: {$ref: '#/components/schemas/MACPrefixes'}
                account: {oneOf: [{$ref: '#/components/schemas/AccountName'}, {type: 'null'}], description: 'the redirection account its devices are registered with (default: default)'}
            TenantPatch:
              type: object
              description: a field that is absent or null is left as it is
              properties:
                name: {oneOf: [{$ref: '#/components/schemas/TenantName'}, {type: 'null'}]}
                url_template: {oneOf: [{$ref: '#/components/schemas/URLTemplate'}, {type: 'null'}]}
                allow_bearer: {type: [boolean, 'null']}
                rotate_secret: {type: [boolean, 'null']}
                mac_prefixes: {$ref: '#/components/schemas/MACPrefixes'}
                account: {oneOf: [{$ref: '#/components/schemas/AccountName'}, {type: 'null'}], description: 'another redirection account: each device is deregistered with the old one, then registered with it'}
            TenantWithSecret:
              type: object
              required: [tenant]
              properties:
                tenant: {$ref: '#/components/schemas/Tenant'}
                webhook_secret: {type: string, description: shown once}
                repointed_devices: {type: integer}
                moving_devices: {type: integer, description: devices queued to move to the new account}
            Account:
              type: object
              required: [name, tenants, devices, created_at, updated_at]
              description: a Snom redirection-service account; never its password
              properties:
                name: {type: string}
                user: {type: string, description: 'absent for default: PROVHOOK_REDIRECT_USER'}
                password_storage: {type: string, enum: [sealed, file], description: 'absent for default'}
                password_file: {type: string}
                url: {type: string, description: 'absent: PROVHOOK_REDIRECT_URL'}
                ca_file: {type: string}
                concurrency: {type: integer}
                tenants: {type: integer}
                devices: {type: integer}
                created_at: {type: string, format: date-time}
                updated_at: {type: string, format: date-time}
            AccountName:
              type: string
              description: 1 to 63 letters, digits, underscores, dots or hyphens
              pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'
            AccountSettings:
              type: object
              description: 'null for url, ca_file or concurrency returns it to the installation''s setting (PROVHOOK_REDIRECT_*); a password is sealed under the secret key and never shown; a password kept in a file is named with provhook account'
              properties:
                user: {type: string, pattern: '^[^:\u0000-\u001f\u007f-\u009f]{1,200}$'}
                password: {type: string, pattern: '^[^\u0000-\u001f\u007f]{1,256}$'}
                url: {oneOf: [{type: string, pattern: '^https?://[A-Za-z0-9.-]{1,200}(:[0-9]{1,4})?/([A-Za-z0-9._~-]{1,50}/){0,5}$'}, {type: 'null'}]}
                ca_file: {oneOf: [{type: string, pattern: '^/[A-Za-z0-9._/-]{1,500}$'}, {type: 'null'}]}
                concurrency: {type: [integer, 'null'], minimum: 1, maximum: 64}
            AccountCreate:
              allOf:
                - {$ref: '#/components/schemas/AccountSettings'}
                - type: object
                  required: [name, user, password]
                  properties:
                    name: {$ref: '#/components/schemas/AccountName'}
            Device:
              type: object
              required: [mac, desired, status, generation, attempts, next_attempt_at, updated_at]
              properties:
                mac: {type: string, pattern: '^[0-9A-F]{12}$'}
                tenant_id: {type: string, description: 'absent for a MAC that no tenant claims, queued for deregistration by reconcile --prune'}
                device_id: {type: string}
                extension: {type: string}
                model: {type: string}
                desired: {type: string, enum: [registered, deregistered]}
                url: {type: string}
                status: {type: string, enum: [pending, registered, deregistered, failed, conflict, skipped]}
                generation: {type: integer}
                attempts: {type: integer}
                next_attempt_at: {type: string, format: date-time}
                last_error: {type: string}
                updated_at: {type: string, format: date-time}
                account: {type: string, description: the redirection account the next call is made with}
                move_to: {type: string, description: 'set while the MAC moves to another of our accounts: deregistered with account first, then registered with this one'}
            JournalEntry:
              type: object
              required: [id, at, actor, action, outcome, detail]
              properties:
                id: {type: integer}
                at: {type: string, format: date-time}
                tenant_id: {type: string}
                mac: {type: string}
                actor: {type: string}
                action: {type: string}
                outcome: {type: string}
                event_id: {type: string}
                detail: {type: object}
            SourceAPI:
              type: object
              required: [url]
              properties:
                url: {type: string, description: 'Kazoo crossbar with /v2, or the Wazo host'}
                user: {type: string, description: 'Wazo: the wazo-auth user'}
                ca_file: {type: string}
                tenant: {type: string, description: 'Wazo: Wazo-Tenant'}
            Source:
              type: object
              required: [name, kind, path, accounts, created_at, updated_at]
              properties:
                name: {type: string}
                kind: {type: string, enum: [kazoo, wazo, mapping, fusionpbx]}
                tenant: {type: [string, 'null']}
                accounts: {type: object, additionalProperties: {type: string}, description: 'Kazoo account_id to tenant'}
                api: {oneOf: [{$ref: '#/components/schemas/SourceAPI'}, {type: 'null'}]}
                path: {type: string, description: 'where its webhooks go, on the webhook listener'}
                last_sync:
                  type: object
                  description: the last `provhook source sync`
                  properties:
                    at: {type: string, format: date-time}
                    summary: {type: object}
                    error: {type: string}
                created_at: {type: string, format: date-time}
                updated_at: {type: string, format: date-time}
                removed_at: {type: string, format: date-time}
            SourceAPIURL:
              type: string
              maxLength: 2000
              description: https; an http:// API is accepted only where serve runs with PROVHOOK_PBX_ALLOW_HTTP=1
              pattern: '^https://[^/?#@\x00-\x20\x7F]+(/[^?#\x00-\x20\x7F]*)?$'
            SourceAPISecret: {type: string, minLength: 1, maxLength: 1000, description: 'the Kazoo API key or the Wazo password; never shown again'}
            CAFile: {type: [string, 'null'], pattern: '^/', description: 'a PEM file of CAs trusted for the API besides the system''s'}
            KazooAPIInput:
              type: object
              required: [url, secret]
              description: Kazoo crossbar, including /v2
              properties:
                url: {$ref: '#/components/schemas/SourceAPIURL'}
                secret: {$ref: '#/components/schemas/SourceAPISecret'}
                ca_file: {$ref: '#/components/schemas/CAFile'}
                user: {type: 'null'}
                tenant: {type: 'null'}
            WazoAPIInput:
              type: object
              required: [url, user, secret]
              description: the Wazo host, under which /api/auth/0.1 and /api/confd/1.1 are
              properties:
                url: {$ref: '#/components/schemas/SourceAPIURL'}
                user: {type: string, minLength: 1, maxLength: 200}
                secret: {$ref: '#/components/schemas/SourceAPISecret'}
                ca_file: {$ref: '#/components/schemas/CAFile'}
                tenant: {type: [string, 'null'], minLength: 1, maxLength: 200, description: Wazo-Tenant}
            SourceAPIInput:
              oneOf: [{$ref: '#/components/schemas/KazooAPIInput'}, {$ref: '#/components/schemas/WazoAPIInput'}]
            KazooAccounts:
              type: [object, 'null']
              description: Kazoo account_id to tenant id
              additionalProperties: {$ref: '#/components/schemas/TenantID'}
              propertyNames: {pattern: '^[A-Za-z0-9_.-]{1,64}$'}
            NoAccounts: {type: [object, 'null'], maxProperties: 0}
            JSONPointer: {type: string, pattern: '^(/([^~]|~[01])*)+$', description: an RFC 6901 JSON Pointer}
            FormField: {type: string, pattern: '^[^\[]+(\[[^\]]*\])*$', description: 'a form field name, bracket keys allowed'}
            HeaderName: {type: string, pattern: '^[!#$%&''*+.^_`|~0-9A-Za-z-]+$'}
            MappingSignature:
              type: [object, 'null']
              required: [header, algorithm, encoding]
              properties:
                header: {$ref: '#/components/schemas/HeaderName'}
                algorithm: {type: string, enum: [sha256, sha1]}
                encoding: {type: string, enum: [hex, base64]}
                prefix: {type: [string, 'null']}
                timestamp_header: {oneOf: [{$ref: '#/components/schemas/HeaderName'}, {type: 'null'}]}
                replay_window: {type: [string, 'null'], enum: [none, null], description: '"none" accepts that, without timestamp_header, a captured request replays'}
              description: >-
                without a timestamp_header, a captured request could be replayed for ever, so a source is refused one
                unless replay_window is "none"
              anyOf:
                - {required: [timestamp_header], properties: {timestamp_header: {$ref: '#/components/schemas/HeaderName'}}}
                - {required: [replay_window], properties: {replay_window: {const: none}}}
            MappingEvents:
              type: object
              minProperties: 1
              additionalProperties: {type: string, enum: [device.added, device.updated, device.removed]}
            JSONMapping:
              type: object
              required: [format, event, events, mac, device_id]
              properties:
                format: {const: json}
                event: {$ref: '#/components/schemas/JSONPointer'}
                events: {$ref: '#/components/schemas/MappingEvents'}
                mac: {$ref: '#/components/schemas/JSONPointer'}
                device_id: {$ref: '#/components/schemas/JSONPointer'}
                previous_mac: {oneOf: [{$ref: '#/components/schemas/JSONPointer'}, {type: 'null'}]}
                extension: {oneOf: [{$ref: '#/components/schemas/JSONPointer'}, {type: 'null'}]}
                model: {oneOf: [{$ref: '#/components/schemas/JSONPointer'}, {type: 'null'}]}
                decode_json: {type: [array, 'null'], items: {$ref: '#/components/schemas/JSONPointer'}}
                signature: {$ref: '#/components/schemas/MappingSignature'}
            FormMapping:
              type: object
              required: [format, event, events, mac, device_id]
              properties:
                format: {const: form}
                event: {$ref: '#/components/schemas/FormField'}
                events: {$ref: '#/components/schemas/MappingEvents'}
                mac: {$ref: '#/components/schemas/FormField'}
                device_id: {$ref: '#/components/schemas/FormField'}
                previous_mac: {oneOf: [{$ref: '#/components/schemas/FormField'}, {type: 'null'}]}
                extension: {oneOf: [{$ref: '#/components/schemas/FormField'}, {type: 'null'}]}
                model: {oneOf: [{$ref: '#/components/schemas/FormField'}, {type: 'null'}]}
                decode_json: {type: [array, 'null'], items: {$ref: '#/components/schemas/FormField'}}
                signature: {$ref: '#/components/schemas/MappingSignature'}
            SourceMapping:
              description: 'a mapping, as in the README ("Mapping sources")'
              oneOf: [{$ref: '#/components/schemas/JSONMapping'}, {$ref: '#/components/schemas/FormMapping'}]
            KazooSourceCreate:
              type: object
              required: [name, kind]
              description: 'a tenant, or accounts mapped to tenants, or both'
              properties:
                name: {$ref: '#/components/schemas/TenantID'}
                kind: {const: kazoo}
                tenant: {oneOf: [{$ref: '#/components/schemas/TenantID'}, {type: 'null'}]}
                accounts: {$ref: '#/components/schemas/KazooAccounts'}
                mapping: {type: 'null'}
                api: {oneOf: [{$ref: '#/components/schemas/KazooAPIInput'}, {type: 'null'}]}
              anyOf:
                - {required: [tenant], properties: {tenant: {type: string}}}
                - {required: [accounts], properties: {accounts: {type: object, minProperties: 1}}}
            WazoSourceCreate:
              type: object
              required: [name, kind, tenant]
              properties:
                name: {$ref: '#/components/schemas/TenantID'}
                kind: {const: wazo}
                tenant: {$ref: '#/components/schemas/TenantID'}
                accounts: {$ref: '#/components/schemas/NoAccounts'}
                mapping: {type: 'null'}
                api: {oneOf: [{$ref: '#/components/schemas/WazoAPIInput'}, {type: 'null'}]}
            MappingSourceCreate:
              type: object
              required: [name, kind, tenant, mapping]
              properties:
                name: {$ref: '#/components/schemas/TenantID'}
                kind: {const: mapping}
                tenant: {$ref: '#/components/schemas/TenantID'}
                accounts: {$ref: '#/components/schemas/NoAccounts'}
                mapping: {$ref: '#/components/schemas/SourceMapping'}
                api: {type: 'null'}
            SourceCreate:
              description: an optional field that is null counts as absent
              oneOf:
                - {$ref: '#/components/schemas/KazooSourceCreate'}
                - {$ref: '#/components/schemas/WazoSourceCreate'}
                - {$ref: '#/components/schemas/MappingSourceCreate'}
            SourcePatch:
              type: object
              description: >-
                a field that is absent or null is left as it is. A change that does not fit the source's kind (a
                mapping for a Kazoo source, accounts for a Wazo one, no tenant and no accounts) is refused with 409
              allOf:
                - not: {required: [tenant, no_tenant], properties: {tenant: {type: string}, no_tenant: {const: true}}}
                - not: {required: [api, remove_api], properties: {api: {type: object}, remove_api: {const: true}}}
              properties:
                tenant: {oneOf: [{$ref: '#/components/schemas/TenantID'}, {type: 'null'}]}
                no_tenant: {type: [boolean, 'null']}
                accounts: {$ref: '#/components/schemas/KazooAccounts'}
                unmap_accounts: {type: [array, 'null'], items: {type: string, pattern: '^[A-Za-z0-9_.-]{1,64}$'}}
                mapping: {oneOf: [{$ref: '#/components/schemas/SourceMapping'}, {type: 'null'}]}
                api: {oneOf: [{$ref: '#/components/schemas/SourceAPIInput'}, {type: 'null'}]}
                remove_api: {type: [boolean, 'null']}
                rotate_token: {type: [boolean, 'null']}
            SourceWithToken:
              type: object
              required: [source]
              properties:
                source: {$ref: '#/components/schemas/Source'}
                token: {type: string, description: shown once}
          responses:
            Unauthorized: {description: missing or wrong bearer token, content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
            BadRequest: {description: invalid input, content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
            NotFound: {description: 'no such tenant, source or device', content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
            Conflict: {description: the change contradicts what is stored, content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
            TooLarge: {description: the body is over 64 KiB, content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
            Unavailable: {description: the database is unavailable, content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
            SecretKey: {description: 'the secret key cannot seal or open a webhook secret (misconfigured, see the message)', content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
            SourceReceipt:
              description: what became of the event
              content:
                application/json:
                  schema:
                    type: object
                    required: [status]
                    properties:
                      status: {type: string, enum: [accepted, duplicate, rejected, ignored]}
                      event: {type: string}
                      error: {$ref: '#/components/schemas/Error/properties/error'}
            TenantWithSecret:
              description: the tenant, with its new webhook secret when one was made (shown once)
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/TenantWithSecret'}
        paths:
          /v1/tenants/{tenant}/events:
            servers: &webhookListener
              - url: "{webhookListener}"
                description: the webhook listener (PROVHOOK_LISTEN), not the admin listener that serves this document
                variables:
                  webhookListener: {default: "http://127.0.0.1:8080"}
            post:
              summary: Receive a PBX webhook (Standard Webhooks signature, or a bearer secret where allowed)
              parameters:
                - {name: tenant, in: path, required: true, schema: {type: string}}
                - {name: webhook-id, in: header, required: false, schema: {type: string, pattern: '^[\x21-\x7E]{1,256}$'}}
                - {name: webhook-timestamp, in: header, required: false, schema: {type: string}}
                - {name: webhook-signature, in: header, required: false, schema: {type: string}}
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [type]
                      properties:
                        type: {type: string, enum: [device.added, device.updated, device.removed]}
                        mac: {oneOf: [{$ref: '#/components/schemas/MAC'}, {type: 'null'}]}
                        previous_mac: {oneOf: [{$ref: '#/components/schemas/MAC'}, {type: 'null'}], description: device.updated only}
                        device_id: {type: [string, 'null'], minLength: 1, maxLength: 200}
                        extension: {type: [string, 'null'], minLength: 1, maxLength: 64}
                        model: {type: [string, 'null'], minLength: 1, maxLength: 64}
              responses:
                "202":
                  description: committed
                  content:
                    application/json:
                      schema: {type: object, properties: {status: {const: accepted}, event: {type: string}}}
                "200":
                  description: the same webhook-id was accepted before
                  content:
                    application/json:
                      schema: {type: object, properties: {status: {const: duplicate}, event: {type: string}}}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/BadRequest'}
                "413": {$ref: '#/components/responses/BadRequest'}
                "503": {$ref: '#/components/responses/Unavailable'}
          /v1/sources/{source}/events:
            servers: *webhookListener
            post:
              summary: Receive a PBX platform's own webhook (Kazoo, Wazo or a mapped panel), authenticated by the source
              description: >-
                The token goes in the query (?token=), as Authorization Bearer, or as the basic-auth password; a mapping
                with a signature, and a Kazoo v2 hook whose sha256_key is the token, are authenticated by their
                signature instead. Each platform's answers fit how it retries. Kazoo: everything recorded is 200, a
                rejection included (Kazoo keeps only a 200 and never retries an HTTP error), and when nothing can be
                recorded the connection is closed without an answer (a transport error, which Kazoo retries). Wazo:
                202 accepted (a created or edited device is looked up in wazo-confd after the answer), 200 duplicate or
                ignored, 410 rejected (webhookd retries everything but 410). A mapped panel: 202, 200 and 400, as the
                native contract.
              parameters:
                - {name: source, in: path, required: true, schema: {type: string}}
                - {name: token, in: query, required: false, schema: {type: string}}
                - {name: event, in: query, required: false, schema: {type: string}, description: 'Wazo: the event name ({{ event_name }})'}
              requestBody:
                required: true
                content:
                  application/x-www-form-urlencoded: {schema: {type: object}}
                  application/json: {schema: {type: object}}
                  text/plain: {schema: {type: string}}
              responses:
                "200": {$ref: '#/components/responses/SourceReceipt'}
                "202": {$ref: '#/components/responses/SourceReceipt'}
                "400": {$ref: '#/components/responses/SourceReceipt'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "410": {$ref: '#/components/responses/SourceReceipt'}
                "413": {$ref: '#/components/responses/TooLarge'}
                "503": {$ref: '#/components/responses/Unavailable'}
            get:
              summary: The same, with the fields in the query string (Kazoo's http_verb get)
              parameters:
                - {name: source, in: path, required: true, schema: {type: string}}
                - {name: token, in: query, required: false, schema: {type: string}}
              responses:
                "200": {$ref: '#/components/responses/SourceReceipt'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "503": {$ref: '#/components/responses/Unavailable'}
          /healthz:
            get:
              summary: The process is alive
              responses:
                "200": {description: alive}
          /readyz:
            get:
              summary: The database answers and the redirection service has not refused the credentials
              responses:
                "200": {description: ready}
                "503": {description: not ready}
          /metrics:
            get:
              summary: Prometheus metrics
              responses:
                "200":
                  description: text exposition format
                  content:
                    text/plain: {schema: {type: string}}
          /openapi.yaml:
            get:
              summary: This document
              responses:
                "200":
                  description: OpenAPI 3.1
                  content:
                    application/yaml: {schema: {}}
          /v1/devices:
            get:
              summary: Devices, by MAC, a page at a time
              security: [{adminToken: []}]
              parameters:
                - {name: tenant, in: query, schema: {$ref: '#/components/schemas/TenantID'}}
                - {name: status, in: query, schema: {type: string, enum: [pending, registered, deregistered, failed, conflict, skipped]}}
                - {name: mac, in: query, schema: {$ref: '#/components/schemas/MAC'}}
                - {name: after, in: query, description: the next_after of the previous page, schema: {$ref: '#/components/schemas/MAC'}}
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 100}}
              responses:
                "200":
                  description: a page of devices
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [devices]
                        properties:
                          devices: {type: array, items: {$ref: '#/components/schemas/Device'}}
                          next_after: {type: string}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "503": {$ref: '#/components/responses/Unavailable'}
            post:
              summary: Import devices from CSV, each row a device.added event of its tenant (provhook device import)
              description: >-
                The header names mac, device_id, extension and model, and optionally tenant, in any order. A file with
                a refused row imports nothing unless partial=true; every refused row is listed with its line.
              security: [{adminToken: []}]
              parameters:
                - {name: tenant, in: query, description: the tenant of rows without a tenant column, schema: {$ref: '#/components/schemas/TenantID'}}
                - {name: partial, in: query, schema: {type: boolean, default: false}}
                - {name: dry_run, in: query, schema: {type: boolean, default: false}}
              requestBody:
                required: true
                content:
                  text/csv:
                    schema:
                      type: string
                      description: >-
                        The documented form: this header, then rows without quotes. The columns may also come in any
                        order, and fields may be quoted as RFC 4180 says.
                      pattern: '^mac,device_id,extension,model(,tenant)?(\r?\n[^"\r\n]*)*$'
              responses:
                "200":
                  description: what was imported, or would be, and every refused row
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [accepted, duplicates, refused, rows, wrote_nothing, dry_run]
                        properties:
                          accepted: {type: integer}
                          duplicates: {type: integer}
                          rows: {type: integer}
                          wrote_nothing: {type: boolean}
                          dry_run: {type: boolean}
                          refused:
                            type: array
                            items:
                              type: object
                              required: [line, mac, reason]
                              properties:
                                line: {type: integer}
                                mac: {type: string}
                                reason: {type: string}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "413": {description: the body is over 16 MiB, content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
                "415": {description: the body is not text/csv, content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
                "503": {$ref: '#/components/responses/Unavailable'}
          /v1/devices/{mac}:
            get:
              summary: One device, what was last applied, what to do about it, and its journal, newest first
              security: [{adminToken: []}]
              parameters:
                - {name: mac, in: path, required: true, schema: {$ref: '#/components/schemas/MAC'}}
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 10000, default: 20}}
              responses:
                "200":
                  description: the device
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [device, pending_since, history, history_count]
                        properties:
                          device: {$ref: '#/components/schemas/Device'}
                          tenant_name: {type: string}
                          pending_since: {type: string, format: date-time}
                          claimed_until: {type: string, format: date-time}
                          last_applied: {$ref: '#/components/schemas/JournalEntry'}
                          advice: {type: string}
                          history: {type: array, items: {$ref: '#/components/schemas/JournalEntry'}}
                          history_count: {type: integer}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "503": {$ref: '#/components/responses/Unavailable'}
          /v1/journal:
            get:
              summary: Journal rows; the newest page by default, or forward from after_id or since
              security: [{adminToken: []}]
              parameters:
                - {name: tenant, in: query, schema: {$ref: '#/components/schemas/TenantID'}}
                - {name: mac, in: query, schema: {$ref: '#/components/schemas/MAC'}}
                - {name: action, in: query, schema: {type: string}}
                - {name: since, in: query, schema: {type: string, format: date-time}}
                - {name: until, in: query, schema: {type: string, format: date-time}}
                - {name: after_id, in: query, schema: {type: integer, format: int64, minimum: -9223372036854775808, maximum: 9223372036854775807}}
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 10000, default: 100}}
                - {name: format, in: query, schema: {type: string, enum: [json, csv], default: json}}
              responses:
                "200":
                  description: journal rows, oldest first
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [entries]
                        properties:
                          entries: {type: array, items: {$ref: '#/components/schemas/JournalEntry'}}
                          next_after_id: {type: integer}
                    text/csv:
                      schema: {type: string}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "503": {$ref: '#/components/responses/Unavailable'}
          /v1/tenants:
            get:
              summary: Tenants
              security: [{adminToken: []}]
              parameters:
                - {name: include_removed, in: query, schema: {type: boolean, default: false}}
              responses:
                "400": {$ref: '#/components/responses/BadRequest'}
                "200":
                  description: tenants
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          tenants: {type: array, items: {$ref: '#/components/schemas/Tenant'}}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "503": {$ref: '#/components/responses/Unavailable'}
            post:
              summary: Add a tenant; the answer holds its webhook secret, shown once
              security: [{adminToken: []}]
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/TenantCreate'}
              responses:
                "201": {$ref: '#/components/responses/TenantWithSecret'}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "409": {$ref: '#/components/responses/Conflict'}
                "413": {$ref: '#/components/responses/TooLarge'}
                "500": {$ref: '#/components/responses/SecretKey'}
                "503": {$ref: '#/components/responses/Unavailable'}
          /v1/tenants/{tenant}:
            patch:
              summary: Change a tenant; a new url_template re-points all of its devices
              security: [{adminToken: []}]
              parameters:
                - {name: tenant, in: path, required: true, schema: {type: string}}
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/TenantPatch'}
              responses:
                "200": {$ref: '#/components/responses/TenantWithSecret'}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "413": {$ref: '#/components/responses/TooLarge'}
                "500": {$ref: '#/components/responses/SecretKey'}
                "503": {$ref: '#/components/responses/Unavailable'}
          /v1/sources:
            get:
              summary: Inbound sources (a PBX platform's own webhooks); never a token or an API secret
              security: [{adminToken: []}]
              parameters:
                - {name: include_removed, in: query, schema: {type: boolean, default: false}}
              responses:
                "200":
                  description: sources
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          sources: {type: array, items: {$ref: '#/components/schemas/Source'}}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "503": {$ref: '#/components/responses/Unavailable'}
            post:
              summary: Add a source; the answer holds its token, shown once
              security: [{adminToken: []}]
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/SourceCreate'}
              responses:
                "201": {description: the source and its token, content: {application/json: {schema: {$ref: '#/components/schemas/SourceWithToken'}}}}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "409": {$ref: '#/components/responses/Conflict'}
                "413": {$ref: '#/components/responses/TooLarge'}
                "500": {$ref: '#/components/responses/SecretKey'}
                "503": {$ref: '#/components/responses/Unavailable'}
          /v1/sources/{source}:
            patch:
              summary: Change a source's tenant, accounts, mapping or PBX API, or rotate its token (shown once)
              security: [{adminToken: []}]
              parameters:
                - {name: source, in: path, required: true, schema: {type: string}}
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/SourcePatch'}
              responses:
                "200": {description: 'the source, and its new token when rotated', content: {application/json: {schema: {$ref: '#/components/schemas/SourceWithToken'}}}}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "409": {$ref: '#/components/responses/Conflict'}
                "413": {$ref: '#/components/responses/TooLarge'}
                "500": {$ref: '#/components/responses/SecretKey'}
                "503": {$ref: '#/components/responses/Unavailable'}
            delete:
              summary: Remove a source; its webhooks are answered 404 and its pending lookups dropped (journaled)
              security: [{adminToken: []}]
              parameters:
                - {name: source, in: path, required: true, schema: {type: string}}
              responses:
                "204": {description: removed}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "503": {$ref: '#/components/responses/Unavailable'}
          /v1/accounts:
            get:
              summary: Redirection-service accounts, default included; never a password
              security: [{adminToken: []}]
              responses:
                "200":
                  description: accounts
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          accounts: {type: array, items: {$ref: '#/components/schemas/Account'}}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "503": {$ref: '#/components/responses/Unavailable'}
            post:
              summary: Add an account (name, user and password)
              security: [{adminToken: []}]
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/AccountCreate'}
              responses:
                "201": {description: the account, content: {application/json: {schema: {type: object, properties: {account: {$ref: '#/components/schemas/Account'}}}}}}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "409": {$ref: '#/components/responses/Conflict'}
                "413": {$ref: '#/components/responses/TooLarge'}
                "500": {$ref: '#/components/responses/SecretKey'}
                "503": {$ref: '#/components/responses/Unavailable'}
          /v1/accounts/{account}:
            patch:
              summary: Change an account's user, password, URL, CA file or concurrency
              security: [{adminToken: []}]
              parameters:
                - {name: account, in: path, required: true, schema: {type: string}}
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/AccountSettings'}
              responses:
                "200": {description: the account, content: {application/json: {schema: {type: object, properties: {account: {$ref: '#/components/schemas/Account'}}}}}}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "409": {$ref: '#/components/responses/Conflict'}
                "413": {$ref: '#/components/responses/TooLarge'}
                "500": {$ref: '#/components/responses/SecretKey'}
                "503": {$ref: '#/components/responses/Unavailable'}
            delete:
              summary: Remove an account that no tenant uses and that holds no device (journaled)
              security: [{adminToken: []}]
              parameters:
                - {name: account, in: path, required: true, schema: {type: string}}
              responses:
                "204": {description: removed}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "409": {$ref: '#/components/responses/Conflict'}
                "503": {$ref: '#/components/responses/Unavailable'}
          /v1/reconcile:
            post:
              summary: Compare devices with the service and queue fixes (synchronous; every finding is journaled)
              security: [{adminToken: []}]
              requestBody:
                required: false
                content:
                  application/json:
                    schema:
                      type: object
                      description: a field that is null counts as absent
                      properties:
                        tenant: {type: [string, 'null'], description: only this tenant's devices (no prune of unknown MACs then)}
                        dry_run: {type: [boolean, 'null'], default: false}
                        prune: {type: [boolean, 'null'], default: false}
              responses:
                "200":
                  description: the run's findings
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          devices_checked: {type: integer}
                          in_sync: {type: integer}
                          findings:
                            type: array
                            items:
                              type: object
                              properties:
                                kind: {type: string}
                                mac: {type: string}
                                tenant: {type: string}
                                expected: {type: string}
                                actual: {type: string}
                                action: {type: string}
                "400": {$ref: '#/components/responses/BadRequest'}
                "401": {$ref: '#/components/responses/Unauthorized'}
                "404": {$ref: '#/components/responses/NotFound'}
                "413": {$ref: '#/components/responses/TooLarge'}
                "503": {$ref: '#/components/responses/Unavailable'}
        """#
}
