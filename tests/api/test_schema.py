"""The OpenAPI 3 schema: valid by drf-spectacular's own validator, served at a stable URL."""

import yaml
from django.core.management import call_command


def test_schema_generation_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    # --fail-on-warn turns any warning (an undocumented field, an unresolvable type) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    for path in ("/api/clusters/", "/api/clusters/{id}/", "/api/clusters/{id}/kubeconfig/",
                 "/api/clusters/{id}/upgrades/", "/api/upgrades/", "/api/organizations/", "/api/token/",
                 "/api/datastores/", "/api/datastores/{id}/"):
        assert path in schema["paths"], path
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_schema_is_served_to_anyone_at_api_schema(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    # Secrets are write-only in the published contract too.
    datastore = schema["components"]["schemas"]["DataStore"]["properties"]
    assert all(datastore[s].get("writeOnly") for s in ("ca_key", "client_key", "password"))
    assert datastore["client_key_set"]["readOnly"]
