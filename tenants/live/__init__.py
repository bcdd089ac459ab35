"""Live status: one watch per kind on the management cluster, fanned out to browsers.

Entry points:
- `tenants.live.watch.start_watchers()` — start the four watches (idempotent, one set per process);
  with the in-memory layer the first WebSocket consumer of the server process calls it.
- `tenants.live.watch.run_watchers_while_leading(leading=, stop=)` — `manage.py controller` runs
  the watches while it holds the Lease (channels-redis: one publisher for every server replica).
- `tenants.live.publish.publish_tenant_status(tenant)` — push phase/conditions/endpoint/upgrade now
  (also sent automatically after every committed save of a TenantControlPlane or Upgrade).
- `tenants.consumers.ClusterStatusConsumer` at `/ws/clusters/<pk>/`.
"""
