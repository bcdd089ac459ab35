"""Management-cluster objects for a tenant: one pure builder module per object kind."""
