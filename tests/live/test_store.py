"""The watchers' store: routing objects to tenants, replace vs. apply, bounded events (pure)."""

from tenants.live.store import ObjectStore, tenant_of


def obj(name: str, *, namespace: str = "kui-7-prod", tenant: str | None = "7", rv: str = "1") -> dict:
    labels = {"kamaji-ui/tenant": tenant} if tenant else {}
    return {"metadata": {"name": name, "namespace": namespace, "labels": labels, "resourceVersion": rv}}


def test_tenant_of_reads_the_label_or_for_events_the_namespace():
    assert tenant_of("pods", obj("a")) == 7
    assert tenant_of("pods", obj("a", tenant=None)) is None
    assert tenant_of("pods", obj("a", tenant="x")) is None
    assert tenant_of("events", obj("e", tenant=None)) == 7
    assert tenant_of("events", obj("e", namespace="kube-system", tenant=None)) is None


def test_replace_reports_tenants_whose_objects_appeared_vanished_or_changed():
    store = ObjectStore()
    assert store.replace("pods", [obj("a"), obj("b", tenant="8", namespace="kui-8-x")]) == {7, 8}
    assert store.replace("pods", [obj("a")]) == {8}  # 8's pod is gone: its page (and controller) must hear of it
    assert store.for_tenant("pods", 8) == []
    assert store.replace("pods", [obj("a", rv="2")]) == {7}  # changed while the watch was away
    assert store.replace("pods", [obj("a", rv="2")]) == set()  # a re-list that finds nothing new is quiet
    assert store.synced("pods") and not store.all_synced()


def test_apply_adds_modifies_deletes():
    store = ObjectStore()
    assert store.apply("pods", "ADDED", obj("a")) == 7
    store.apply("pods", "MODIFIED", obj("a", rv="2"))
    assert [p["metadata"]["resourceVersion"] for p in store.for_tenant("pods", 7)] == ["2"]
    store.apply("pods", "DELETED", obj("a", rv="3"))
    assert store.for_tenant("pods", 7) == []
    assert store.apply("pods", "ADDED", obj("z", tenant=None)) is None


def test_events_are_bounded_per_tenant_keeping_the_newest():
    store = ObjectStore(events_per_tenant=3)
    for i in range(5):
        store.apply("events", "ADDED", obj(f"e{i}", tenant=None))
    assert [e["metadata"]["name"] for e in store.for_tenant("events", 7)] == ["e2", "e3", "e4"]


def test_a_tenant_view_keeps_only_its_own_namespace():
    """Another installation on the same management cluster also has a tenant 7: its objects stay out."""
    from tenants.live.store import InNamespace

    store = ObjectStore()
    store.apply("pods", "ADDED", obj("ours"))
    store.apply("pods", "ADDED", obj("theirs", namespace="kui-7-other"))
    assert [p["metadata"]["name"] for p in InNamespace(store, "kui-7-prod").for_tenant("pods", 7)] == ["ours"]
