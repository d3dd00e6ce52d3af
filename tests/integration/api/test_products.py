"""Products: the contract's second table."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shop_core.testing import FakeClock
from tests.integration.api.conftest import Api

FIELDS = {"id", "name", "description", "price", "stock", "is_deleted", "created_at",
          "updated_at"}


def test_list_shows_active_products_paginated(client: Api, clock: FakeClock) -> None:
    for number in range(3):
        client.product(name=f"Lamp {number}", price=f"{number + 1}.50")
        clock.advance(timedelta(seconds=1))
    gone = client.product(name="Gone")
    client.http.delete(f"/api/v1/products/{gone}/", headers=client.auth("admin"))

    response = client.http.get("/api/v1/products/?page_size=2")
    assert response.status_code == 200
    body = response.json
    assert body["count"] == 3 and body["previous"] is None
    assert body["next"] == "http://localhost/api/v1/products/?page_size=2&page=2"
    assert [p["name"] for p in body["results"]] == ["Lamp 2", "Lamp 1"]  # newest first
    assert set(body["results"][0]) == FIELDS and body["results"][0]["price"] == "3.50"

    second = client.http.get(body["next"]).json
    assert [p["name"] for p in second["results"]] == ["Lamp 0"]
    assert second["next"] is None
    assert second["previous"] == "http://localhost/api/v1/products/?page_size=2"

    past = client.http.get("/api/v1/products/?page=3&page_size=2")
    assert past.status_code == 404 and past.json == {"detail": "Invalid page."}


def test_list_filters_and_orders(client: Api, clock: FakeClock) -> None:
    client.product(name="Brass lamp", price="30.00", stock=0)
    client.product(name="desk LAMP", price="10.00", stock=5)
    client.product(name="Chair", price="20.00", stock=1)

    def names(query: str) -> list[str]:
        response = client.http.get(f"/api/v1/products/?{query}")
        assert response.status_code == 200, response.json
        return [p["name"] for p in response.json["results"]]

    assert names("search=lamp&ordering=name") == ["Brass lamp", "desk LAMP"]
    assert names("in_stock=true&ordering=price") == ["desk LAMP", "Chair"]
    assert names("ordering=-price") == ["Brass lamp", "Chair", "desk LAMP"]
    assert names("ordering=-name")[0] == "desk LAMP"
    assert names("ordering=created_at")[0] == "Brass lamp"
    bad = client.http.get("/api/v1/products/?ordering=stock&page_size=0")
    assert bad.status_code == 400 and set(bad.json) == {"ordering", "page_size"}


def test_page_size_is_capped_at_100(lite: Api) -> None:
    lite.product()
    body = lite.http.get("/api/v1/products/?page_size=1000").json
    assert body["count"] == 1 and len(body["results"]) == 1


def test_deleted_products_are_hidden_except_from_admins(client: Api) -> None:
    product = client.product()
    admin = client.auth("admin")
    customer = client.auth("amira")
    deleted = client.http.delete(f"/api/v1/products/{product}/", headers=admin)
    assert deleted.status_code == 204 and deleted.data == b""

    assert client.http.get(f"/api/v1/products/{product}/").status_code == 404
    assert client.http.get(f"/api/v1/products/{product}/", headers=customer).status_code == 404
    seen = client.http.get(f"/api/v1/products/{product}/", headers=admin)
    assert seen.status_code == 200 and seen.json["is_deleted"] is True

    everything = "/api/v1/products/?include_deleted=true"
    assert client.http.get(everything, headers=customer).json["count"] == 0
    assert client.http.get(everything).json["count"] == 0
    assert client.http.get(everything, headers=admin).json["count"] == 1


def test_admin_creates_and_updates_products(client: Api) -> None:
    admin = client.auth("admin")
    created = client.http.post("/api/v1/products/", headers=admin, json={
        "name": "Desk lamp", "price": "199.99", "stock": 7})
    assert created.status_code == 201
    product = created.json
    assert set(product) == FIELDS
    assert product["price"] == "199.99" and product["description"] == ""
    assert product["is_deleted"] is False and product["stock"] == 7
    url = f"/api/v1/products/{product['id']}/"
    assert client.http.get(url).json == product

    put = client.http.put(url, headers=admin, json={
        "name": "Lamp", "description": "Brass", "price": "10", "stock": 3})
    assert put.status_code == 200
    assert (put.json["name"], put.json["price"], put.json["stock"]) == ("Lamp", "10.00", 3)
    incomplete = client.http.put(url, headers=admin, json={"name": "Lamp"})
    assert incomplete.status_code == 400 and set(incomplete.json) == {"price", "stock"}

    patch = client.http.patch(url, headers=admin, json={"price": "12.5"})
    assert patch.status_code == 200
    assert (patch.json["name"], patch.json["price"], patch.json["stock"]) == ("Lamp", "12.50", 3)


@pytest.mark.parametrize(("body", "field"), [
    ({"price": 199.99}, "price"),
    ({"price": 5}, "price"),
    ({"price": "0.00"}, "price"),
    ({"price": "-1.00"}, "price"),
    ({"price": "1.234"}, "price"),
    ({"price": "abc"}, "price"),
    ({"stock": -1}, "stock"),
    ({"stock": 1.5}, "stock"),
    ({"stock": "3"}, "stock"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": None}, "name"),
])
def test_product_validation_names_the_field(lite: Api, body: dict[str, object],
                                            field: str) -> None:
    full = {"name": "Lamp", "price": "1.00", "stock": 1, **body}
    response = lite.http.post("/api/v1/products/", headers=lite.auth("admin"), json=full)
    assert response.status_code == 400
    assert list(response.json) == [field]
    assert all(isinstance(message, str) for message in response.json[field])


def test_a_float_price_is_refused_with_a_clear_message(lite: Api) -> None:
    response = lite.http.post("/api/v1/products/", headers=lite.auth("admin"),
                              json={"name": "Lamp", "price": 19.99, "stock": 1})
    assert response.json == {
        "price": ['Enter the amount as a JSON string such as "199.99", not a number.']}


def test_product_writes_need_an_admin(client: Api) -> None:
    product = client.product()
    url = f"/api/v1/products/{product}/"
    body = {"name": "Lamp", "price": "1.00", "stock": 1}
    customer = client.auth("amira")
    for method, path in (("post", "/api/v1/products/"), ("put", url), ("patch", url),
                         ("delete", url)):
        anonymous = getattr(client.http, method)(path, json=body)
        assert anonymous.status_code == 401 and set(anonymous.json) == {"detail"}
        forbidden = getattr(client.http, method)(path, json=body, headers=customer)
        assert forbidden.status_code == 403 and set(forbidden.json) == {"detail"}
    assert client.stock(product) == 10


def test_unknown_products_are_404(client: Api) -> None:
    admin = client.auth("admin")
    for method in ("get", "put", "patch", "delete"):
        response = getattr(client.http, method)(
            "/api/v1/products/999/", headers=admin,
            json={"name": "Lamp", "price": "1.00", "stock": 1})
        assert response.status_code == 404 and set(response.json) == {"detail"}, method
    assert client.http.get("/api/v1/products/99999999999999/").status_code == 404
