"""Bad input anywhere in the API is a 4xx with a JSON body, never a 5xx or an HTML page."""

import pytest

from datastores.drivers.endpoints import outside_allowed_networks


@pytest.mark.parametrize("path", ["/api/clusters/abc/", "/api/clusters/-1/", "/api/clusters/0123/",
                                  "/api/clusters/9999999999999999999999/", "/api/datastores/1e5/", "/api/nothing/"])
def test_unknown_routes_and_bad_ids_are_a_json_404(api, users, path):
    response = api(users.staff).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_outside_the_api_a_404_is_still_a_page(client, users):
    client.force_login(users.member)
    response = client.get("/clusters/no/such/page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("value", ["-6.06e119", "99999999999999999999", "0", "1.5", "x"])
def test_an_id_filter_out_of_range_is_a_field_error(api, users, value):
    response = api(users.member).get("/api/upgrades/", {"cluster": value})
    assert response.status_code == 400
    assert list(response.json()) == ["cluster"]


@pytest.mark.parametrize("field, value", [("replicas", "2"), ("replicas", True), ("addon_coredns", 1),
                                          ("name", 5), ("port", 6443.5), ("service_type", ["NodePort"])])
def test_json_values_of_the_wrong_type_are_field_errors(api, users, field, value):
    body = {"organization": users.org.slug, "name": "typed", field: value}
    response = api(users.member).post("/api/clusters/", body)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("body", [{"name": " spaced"}, {"name": "newline\n"}, {"pod_cidr": " 10.0.0.0/16"},
                                  {"pod_cidr": "10.0.0.0/255.255.0.0"}, {"dns_service_ip": "10.96.0.10 "}])
def test_text_is_taken_as_sent_not_trimmed(api, users, body):
    response = api(users.member).post("/api/clusters/", {"organization": users.org.slug, "name": "x", **body})
    assert response.status_code == 400
    assert set(body) <= set(response.json())


def test_the_api_reads_json_only(api, users):
    response = api(users.member).post("/api/clusters/", {"organization": users.org.slug, "name": "f"},
                                      format="multipart")
    assert response.status_code == 415


@pytest.mark.parametrize("endpoint, refused", [
    ("127.0.0.1:2379", False), ("https://10.212.0.1:2379", False), ("localhost:5432", False),
    ("postgres://u:p@10.212.0.1:5432/db", False), ("192.0.2.1:2379", True), ("etcd.example.test:2379", True),
])
def test_datastore_endpoints_can_be_kept_to_listed_networks(endpoint, refused):
    networks = ("127.0.0.0/8", "10.212.0.0/16")
    assert (outside_allowed_networks(endpoint, networks) is not None) is refused
    assert outside_allowed_networks(endpoint, ()) is None  # nothing listed: anywhere


def test_a_datastore_off_the_allowed_networks_is_a_field_error(api, users, settings):
    settings.DATASTORE_ENDPOINT_NETWORKS = ("127.0.0.0/8",)
    response = api(users.staff).post("/api/datastores/", {"name": "far", "driver": "etcd",
                                                          "endpoints": ["192.0.2.1:2379"]})
    assert response.status_code == 400
    assert "outside" in response.json()["endpoints"][0]
