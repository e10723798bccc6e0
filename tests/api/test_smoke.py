def test_rep_lists_only_own_customers(world, client, login):
    headers = login(world.email("rep.a"))
    response = client.get("/api/v1/customers", headers=headers)
    assert response.status_code == 200
    assert [c["name"] for c in response.json["items"]] == ["Customer A"]
