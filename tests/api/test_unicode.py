"""Text in any script round-trips unchanged, sorts and searches sensibly."""

import unicodedata

import pytest

NAMES = {
    "vi": "Tạp hóa Nguyễn Thị Ánh Tuyết",
    "ar": "بقالة النُّور الحلال",
    "fa": "فروشگاه پارسیان – شعبهٔ ۲",
    "ru": "Магазин «Берёзка» №5",
    "emoji": "Cà phê ☕ 🇻🇳",
    # The same word spelled with combining marks (NFD) must stay as sent.
    "nfd": unicodedata.normalize("NFD", "Phở Hà Nội"),
}


@pytest.mark.parametrize("lang", NAMES)
def test_names_round_trip_unchanged(world, client, login, lang):
    headers = login(world.email("rep.a"))
    name = NAMES[lang]
    created = client.post(
        "/api/v1/customers",
        json={"name": name, "notes": name * 3, "territory_id": str(world.territories["A"])},
        headers=headers,
    )
    assert created.status_code == 201, created.json
    fetched = client.get(f"/api/v1/customers/{created.json['id']}", headers=headers)
    assert fetched.json["name"] == name
    assert fetched.json["notes"] == name * 3
    contact = client.post(
        "/api/v1/contacts",
        json={"customer_id": created.json["id"], "name": name},
        headers=headers,
    )
    assert (
        client.get(f"/api/v1/contacts/{contact.json['id']}", headers=headers).json["name"] == name
    )


def _create(client, headers, territory, names):
    for name in names:
        response = client.post(
            "/api/v1/customers", json={"name": name, "territory_id": territory}, headers=headers
        )
        assert response.status_code == 201


def test_sort_ignores_case_and_accents(world, client, login):
    headers = login(world.email("rep.a"))
    territory = str(world.territories["A"])
    # Code-point order would put "Đức", "Ánh" and "Ёлка" after "Zung" / before "Арбуз".
    _create(client, headers, territory, ["Zung", "Đức", "bình", "Ánh", "Ёлка", "Арбуз", "ель"])
    names = [
        c["name"]
        for c in client.get("/api/v1/customers?sort=name&limit=50", headers=headers).json["items"]
        if c["name"] != "Customer A"
    ]
    assert names == ["Ánh", "bình", "Đức", "Zung", "Арбуз", "Ёлка", "ель"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("nguyen thi", "Tạp hóa Nguyễn Thị Ánh Tuyết"),
        ("NGUYỄN", "Tạp hóa Nguyễn Thị Ánh Tuyết"),
        ("березка", "Магазин «Берёзка» №5"),
        ("النور", "بقالة النُّور الحلال"),
        ("پارسیان", "فروشگاه پارسیان – شعبهٔ ۲"),
        ("pho ha noi", NAMES["nfd"]),
    ],
)
def test_search_folds_case_and_diacritics(world, client, login, query, expected):
    headers = login(world.email("rep.a"))
    _create(client, headers, str(world.territories["A"]), list(NAMES.values()))
    found = client.get("/api/v1/customers", query_string={"q": query}, headers=headers)
    assert found.status_code == 200
    assert [c["name"] for c in found.json["items"]] == [expected]
