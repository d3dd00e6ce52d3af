"""What a request costs the database: invisible to the behaviour tests, visible under load."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from shop_core.events import order_snapshot, product_snapshot
from shop_web.schemas.products import ProductSchema
from tests.integration.api.conftest import Api


@contextmanager
def statements(api: Api) -> Iterator[list[str]]:
    """Every SQL statement the shop sends while the block runs, on either engine."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    database = api.shop.database
    engines = {id(e): e for e in (database.engine, database.read_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def user_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith("SELECT") and "FROM users" in s]


@pytest.mark.parametrize("path", ["/api/v1/profile/", "/api/v1/orders/", "/api/v1/orders/{id}/",
                                  "/api/v1/products/?page_size=20"])
def test_a_signed_in_request_reads_its_user_once(client: Api, path: str) -> None:
    headers = client.auth("amira")
    lamp = client.product()
    order = client.http.post("/api/v1/orders/", headers=headers,
                             json={"cart_items": [{"product_id": lamp, "quantity": 1}]})
    assert order.status_code == 201, order.json

    with statements(client) as seen:
        response = client.http.get(path.format(id=order.json["id"]), headers=headers)

    assert response.status_code == 200, response.json
    assert len(user_reads(seen)) == 1, seen


def test_placing_an_order_reads_its_customer_once(client: Api) -> None:
    headers = client.auth("amira")
    lamp = client.product()
    with statements(client) as seen:
        order = client.http.post("/api/v1/orders/", headers=headers,
                                 json={"cart_items": [{"product_id": lamp, "quantity": 1}]})
    assert order.status_code == 201, order.json
    assert len(user_reads(seen)) == 1, seen


def test_an_anonymous_catalogue_page_reads_no_user(lite: Api) -> None:
    lite.product()
    with statements(lite) as seen:
        response = lite.http.get("/api/v1/products/?page_size=20")
    assert response.status_code == 200
    assert user_reads(seen) == []
    assert seen


def test_catalogue_pages_dump_products_exactly_as_the_documented_schema(client: Api) -> None:
    """The catalogue dumps products by hand (`dump_product`) for speed; the document promises
    `ProductSchema`: same keys, same order, same values, deleted products included."""
    lamp = client.product("Lamp \u00fcn\u00ef \"q\"", "0.05", stock=0, description="two\nlines")
    client.product("Chair", "1234567.80", stock=7)
    admin = client.auth("admin")
    assert client.http.delete(f"/api/v1/products/{lamp}/", headers=admin).status_code == 204

    response = client.http.get("/api/v1/products/?include_deleted=true", headers=admin)

    assert response.status_code == 200
    with client.shop.uow() as uow:
        stored = [uow.products.get(item["id"]) for item in response.json["results"]]
    expected = [ProductSchema().dump(product) for product in stored]
    assert [list(item.items()) for item in response.json["results"]] == \
        [list(item.items()) for item in expected]
    assert [item["is_deleted"] for item in response.json["results"]] == [False, True]


def test_an_order_and_its_lines_are_one_insert_on_postgresql(client: Api) -> None:
    headers = client.auth("amira")
    lamp, chair = client.product("Lamp", "10.00"), client.product("Chair", "25.50", stock=5)
    cart = [{"product_id": chair, "quantity": 2}, {"product_id": lamp, "quantity": 1}]
    with statements(client) as seen:
        placed = client.http.post("/api/v1/orders/", headers=headers, json={"cart_items": cart})
    assert placed.status_code == 201, placed.json

    inserts = [s for s in seen if s.lstrip().upper().startswith(("INSERT", "WITH"))
               and "outbox_events" not in s]
    assert len(inserts) == (1 if client.shop.database.is_postgresql else 2), inserts
    stored = client.http.get(f"/api/v1/orders/{placed.json['id']}/", headers=headers).json
    assert stored["items"] == placed.json["items"]
    assert sorted((item["product_id"], item["name"], item["unit_price"], item["quantity"])
                  for item in stored["items"]) == sorted([(chair, "Chair", "25.50", 2),
                                                          (lamp, "Lamp", "10.00", 1)])


def test_placing_an_order_writes_its_event_in_one_statement_before_the_reservation(
        client: Api) -> None:
    headers = client.auth("amira")
    lamp = client.product("Lamp", "10.00", stock=1)
    with statements(client) as seen:
        placed = client.http.post("/api/v1/orders/", headers=headers,
                                  json={"cart_items": [{"product_id": lamp, "quantity": 1}]})
    assert placed.status_code == 201, placed.json
    outbox = [i for i, s in enumerate(seen) if "outbox_events" in s]
    reserve = next(i for i, s in enumerate(seen) if s.lstrip().startswith("UPDATE products"))
    # The order's event before the product row is locked; the lamp's sell-out, once, after.
    assert len(outbox) == 2 and outbox[0] < reserve < outbox[1], seen


def test_event_snapshots_are_the_api_representations(client: Api) -> None:
    headers = client.auth("amira")
    lamp = client.product("Lamp", "10.00", stock=3)
    placed = client.http.post("/api/v1/orders/", headers=headers,
                              json={"cart_items": [{"product_id": lamp, "quantity": 3}]})
    staff_view = client.http.get(f"/api/v1/orders/{placed.json['id']}/",
                                 headers=client.auth("admin")).json
    with client.shop.uow() as uow:
        order, product = uow.orders.get(placed.json["id"]), uow.products.get(lamp)
    assert order is not None and product is not None
    assert order_snapshot(order) == staff_view
    assert product_snapshot(product) == ProductSchema().dump(product)


def test_a_paid_callback_writes_its_event_in_one_statement(client: Api) -> None:
    from .test_webhook import _callback, _deliver

    headers = client.auth("amira")
    lamp = client.product("Lamp", "10.00", stock=5)
    placed = client.http.post("/api/v1/orders/", headers=headers,
                              json={"cart_items": [{"product_id": lamp, "quantity": 1}]})
    body = _callback(client, placed.json["id"])
    with statements(client) as seen:
        assert _deliver(client, body).status_code == 200
    assert len([s for s in seen if "outbox_events" in s]) == 1, seen
