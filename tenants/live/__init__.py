"""Live status: one watch per kind on the management cluster, fanned out to browsers.

Entry points:
- `tenants.live.watch.start_watchers()` — start the four watches (idempotent, one set per process).
- `tenants.live.publish.publish_tenant_status(tenant)` — push phase/conditions/endpoint/upgrade now
  (also sent automatically after every committed save of a TenantControlPlane or Upgrade).
- `tenants.consumers.ClusterStatusConsumer` at `/ws/clusters/<pk>/`.
"""
