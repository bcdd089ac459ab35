"""A real single-node Kubernetes management cluster, built from pinned upstream sources."""
