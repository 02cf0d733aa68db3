import Hummingbird

/// The webhook listener's router: the tenants' and the sources' webhooks and `/healthz`, nothing else, since a PBX
/// (and the internet) reaches it. A method a path does not serve is answered 405, from the routes registered.
func buildWebhookRouter(
    webhooks: WebhookController, sources: SourceWebhookController
) -> Router<ProvHookRequestContext> {
    let router = Router(context: ProvHookRequestContext.self)
    router.add(middleware: ErrorBodyMiddleware())
    webhooks.addRoutes(to: router)
    sources.addRoutes(to: router)
    router.get("/healthz") { _, _ in OperationsController.Status(status: "ok") }
    router.addMethodNotAllowed()
    return router
}

/// The admin listener's router: `/healthz`, `/readyz` and `/metrics`, and the admin API behind its token when it
/// has one. A method a path does not serve is answered 405, from the routes registered.
func buildAdminRouter(
    operations: OperationsController, admin: AdminController?, token: String?
) -> Router<ProvHookRequestContext> {
    let router = Router(context: ProvHookRequestContext.self)
    router.add(middleware: ErrorBodyMiddleware())
    operations.addRoutes(to: router)
    if let admin, let token { admin.addRoutes(to: router, token: token) }
    router.addMethodNotAllowed()
    return router
}
