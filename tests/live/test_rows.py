"""Kubernetes objects to table rows (pure)."""

from datetime import UTC, datetime

from tenants.live import rows

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def pod(**status) -> dict:
    return {
        "metadata": {"name": "cp-1", "creationTimestamp": "2026-01-01T11:57:30Z"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "kube-apiserver"}, {"name": "kine"}]},
        "status": status,
    }


def test_age_reads_like_kubectl():
    assert [rows.age(rows.parse_time(t), NOW) for t in
            ("2026-01-01T11:59:15Z", "2026-01-01T11:57:00Z", "2026-01-01T09:00:00Z", "2025-12-29T12:00:00Z")] == \
        ["45s", "3m", "3h", "3d"]
    assert rows.age(None, NOW) == ""


def test_pending_pod_shows_why_its_containers_wait():
    row = rows.pod_row(pod(phase="Pending", containerStatuses=[
        {"name": "kube-apiserver", "ready": False, "restartCount": 0,
         "state": {"waiting": {"reason": "ContainerCreating"}}},
    ]), NOW)
    assert (row.phase, row.reason, row.ready, row.total, row.is_ready, row.age) == \
        ("Pending", "ContainerCreating", 0, 2, False, "2m")


def test_running_pod_counts_ready_containers_and_restarts():
    row = rows.pod_row(pod(phase="Running", conditions=[{"type": "Ready", "status": "True"}], containerStatuses=[
        {"name": "kube-apiserver", "ready": True, "restartCount": 2, "state": {"running": {}}},
        {"name": "kine", "ready": True, "restartCount": 1, "state": {"running": {}}},
    ]), NOW)
    assert (row.phase, row.ready, row.total, row.restarts, row.is_ready, row.node, row.containers) == \
        ("Running", 2, 2, 3, True, "node-1", ("kube-apiserver", "kine"))


def test_a_deleted_pod_is_terminating_and_not_ready():
    p = pod(phase="Running", conditions=[{"type": "Ready", "status": "True"}])
    p["metadata"]["deletionTimestamp"] = "2026-01-01T11:59:59Z"
    row = rows.pod_row(p, NOW)
    assert (row.phase, row.is_ready) == ("Terminating", False)


def test_events_newest_first_limited_with_series_counts():
    events = [
        {"metadata": {"name": f"e{i}"}, "type": "Normal", "reason": f"R{i}", "message": f"m{i} ",
         "involvedObject": {"kind": "Pod", "name": "cp-1"}, "lastTimestamp": f"2026-01-01T11:5{i}:00Z", "count": i}
        for i in range(5)
    ]
    events.append({"metadata": {"name": "new"}, "type": "Warning", "reason": "BackOff", "message": "x",
                   "involvedObject": {"kind": "Pod", "name": "cp-2"}, "eventTime": "2026-01-01T11:59:59.123456Z",
                   "series": {"count": 7}})
    shown = rows.event_rows(events, NOW, limit=3)
    assert [(e.reason, e.count, e.object, e.age) for e in shown] == \
        [("BackOff", 7, "pod/cp-2", "0s"), ("R4", 4, "pod/cp-1", "6m"), ("R3", 3, "pod/cp-1", "7m")]
    assert shown[1].message == "m4"


def test_rollout_is_complete_only_when_every_replica_is_updated_and_ready():
    d = {"metadata": {"name": "cp", "generation": 3}, "spec": {"replicas": 2},
         "status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 2}}
    assert not rows.rollout_row(d).complete
    d["status"].update(replicas=2, updatedReplicas=2, readyReplicas=2, availableReplicas=2)
    assert rows.rollout_row(d).complete


def test_service_ports_show_node_ports():
    svc = {"metadata": {"name": "cp"}, "spec": {"type": "NodePort", "clusterIP": "10.213.0.9",
                                                "ports": [{"port": 6443, "nodePort": 31443, "protocol": "TCP"}]}}
    assert rows.service_row(svc) == rows.ServiceRow("cp", "NodePort", "10.213.0.9", "6443→31443/TCP")
