"""Live status: one watch per kind on the management cluster, fanned out to browsers.

The informers themselves (one per kind, shared with the controller) are wired in `tenants.informers`.

Entry points:
- `tenants.informers.start_live()` — the publisher hears of the informers' changes (idempotent, one
  set per process); with the in-memory layer the first WebSocket consumer of the server process calls it.
- `tenants.informers.run_live_while_leading(leading=, stop=)` — `manage.py controller` publishes
  while it holds the Lease (channels-redis: one publisher for every server replica).
- `tenants.live.publish.publish_tenant_status(tenant)` — push phase/conditions/endpoint/upgrade now
  (also sent automatically after every committed save of a TenantControlPlane or Upgrade).
- `tenants.consumers.ClusterStatusConsumer` at `/ws/clusters/<pk>/`.
"""
