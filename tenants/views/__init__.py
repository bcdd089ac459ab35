"""Web UI views for clusters: thin — authorize, call a selector or service, render."""
