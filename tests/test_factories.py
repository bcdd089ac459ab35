from tenants.authorization import visible_tenants


def test_users_fixture_scopes_each_role(users):
    assert list(visible_tenants(users.viewer)) == [users.cluster]
    assert list(visible_tenants(users.outsider)) == [users.other_cluster]
    assert set(visible_tenants(users.staff)) == {users.cluster, users.other_cluster}
