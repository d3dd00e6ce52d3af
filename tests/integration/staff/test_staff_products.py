"""Products in the back-office: create, edit, delete, restore, adjust stock, the trail."""

from __future__ import annotations

import re

from tests.integration.api.conftest import Api

from .conftest import Browser, text


def product_id_of(location: str) -> int:
    match = re.search(r"/staff/products/(\d+)$", location)
    assert match, location
    return int(match.group(1))


def create(staff: Browser, name: str = "Lamp", stock: str = "4") -> int:
    answer = staff.form("/staff/products/new", "/staff/products/new",
                        {"name": name, "description": "Bright", "price": "250.50",
                         "stock": stock})
    assert answer.status_code == 303, text(answer)
    return product_id_of(answer.headers["Location"])


def test_a_product_created_edited_and_restocked_leaves_an_audit_trail(
        staff: Browser, api: Api) -> None:
    product_id = create(staff)
    page = f"/staff/products/{product_id}"
    edited = staff.form(page, f"{page}/edit", {"name": "Desk lamp", "description": "Bright",
                                               "price": "275.00"})
    assert edited.status_code == 303
    added = staff.form(page, f"{page}/stock", {"direction": "add", "quantity": "6",
                                               "reason": "Delivery"})
    assert added.status_code == 303
    removed = staff.form(page, f"{page}/stock", {"direction": "remove", "quantity": "3",
                                                 "reason": "Broken in the shop"})
    assert removed.status_code == 303
    assert api.stock(product_id) == 7
    html = text(staff.get(page))
    assert "Desk lamp" in html and "275.00 EGP" in html
    trail = html[html.index("Stock audit trail"):]
    rows = re.findall(r"<td>(opening stock|adjusted)[^<]*</td>\s*<td class=\"num\">(\d+)</td>"
                      r"\s*<td class=\"num\">(\d+)</td>\s*<td>([^<]*)</td>", trail)
    assert rows == [("adjusted", "10", "7", "Broken in the shop"),
                    ("adjusted", "4", "10", "Delivery"), ("opening stock", "0", "4", "—")]
    assert trail.count("<td>admin</td>") == 3


def test_a_stale_edit_is_refused_with_a_clear_message(staff: Browser, api: Api) -> None:
    product_id = create(staff)
    page = f"/staff/products/{product_id}"
    html = text(staff.get(page))
    version = re.search(r'name="version" value="(\d+)"', html)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert version and csrf
    other = api.http.patch(f"/api/v1/products/{product_id}/", json={"price": "300.00"},
                           headers=api.auth("admin"))
    assert other.status_code == 200
    stale = staff.post(f"{page}/edit", {"csrf_token": csrf.group(1), "version": version.group(1),
                                        "name": "Mine", "description": "", "price": "1.00"})
    assert stale.status_code == 409
    assert "Someone changed this product since you opened it" in text(stale)
    product = api.http.get(f"/api/v1/products/{product_id}/").json
    assert (product["name"], product["price"]) == ("Lamp", "300.00")


def test_a_double_submitted_adjustment_is_applied_once(staff: Browser, api: Api) -> None:
    product_id = create(staff)
    page = f"/staff/products/{product_id}"
    html = text(staff.get(page))
    form = html[html.index(f'action="{page}/stock"'):]
    fields = dict(re.findall(r'name="(csrf_token|request_key)" value="([^"]+)"', form)[:2])
    data = {**fields, "direction": "add", "quantity": "5", "reason": "Delivery"}
    first, second = staff.post(f"{page}/stock", data), staff.post(f"{page}/stock", data)
    assert (first.status_code, second.status_code) == (303, 303)
    assert api.stock(product_id) == 9
    assert "already recorded" in text(staff.get(page))


def test_a_double_submitted_creation_makes_one_product(staff: Browser) -> None:
    html = text(staff.get("/staff/products/new"))
    fields = dict(re.findall(r'name="(csrf_token|request_key)" value="([^"]+)"', html))
    data = {**fields, "name": "Lamp", "price": "10.00", "stock": "1"}
    first, second = (staff.post("/staff/products/new", data) for _ in range(2))
    assert first.headers["Location"] == second.headers["Location"]
    assert text(staff.get("/staff/products/?search=Lamp")).count("/staff/products/") >= 1
    assert "1 product<" in text(staff.get("/staff/products/?search=Lamp"))


def test_bad_input_is_shown_beside_its_field_and_changes_nothing(
        staff: Browser, api: Api) -> None:
    answer = staff.form("/staff/products/new", "/staff/products/new",
                        {"name": "", "price": "1.00", "stock": "-1"})
    assert answer.status_code == 400
    html = text(answer)
    assert "may not be blank" in html and "greater than or equal to 0" in html
    answer = staff.form("/staff/products/new", "/staff/products/new",
                        {"name": "Lamp", "price": "1.234", "stock": "1"})
    assert answer.status_code == 400 and "at most 2 decimal places" in text(answer)
    product_id = create(staff, stock="2")
    page = f"/staff/products/{product_id}"
    short = staff.form(page, f"{page}/stock", {"direction": "remove", "quantity": "3",
                                               "reason": "Lost"})
    assert short.status_code == 400 and "Only 2 units are in stock." in text(short)
    assert api.stock(product_id) == 2


def test_deleting_and_restoring_a_product(staff: Browser, api: Api) -> None:
    product_id = create(staff)
    page = f"/staff/products/{product_id}"
    assert staff.form(page, f"{page}/delete", {}).status_code == 303
    assert api.http.get(f"/api/v1/products/{product_id}/").status_code == 404
    assert "Lamp" not in text(staff.get("/staff/products/"))
    assert "Lamp" in text(staff.get("/staff/products/?deleted=1"))
    assert staff.form(page, f"{page}/restore", {}).status_code == 303
    assert api.http.get(f"/api/v1/products/{product_id}/").status_code == 200


def test_the_product_list_filters_by_name_and_stock(staff: Browser, api: Api) -> None:
    api.product("Blue mug", stock=0)
    api.product("Red mug", stock=3)
    api.product("Chair", stock=40)
    def names(query: str) -> list[str]:
        return re.findall(r'/staff/products/\d+">([^<]+)</a>', text(staff.get(
            f"/staff/products/?{query}")))
    assert sorted(names("search=MUG")) == ["Blue mug", "Red mug"]
    assert names("stock=out") == ["Blue mug"]
    assert names("stock=low") == ["Red mug"]
    assert sorted(names("stock=in")) == ["Chair", "Red mug"]
    assert staff.get("/staff/products/?page=0").status_code == 400
    assert staff.get("/staff/products/999").status_code == 404


def test_the_apis_stock_edits_are_in_the_trail_too(staff: Browser, api: Api) -> None:
    product_id = create(staff)
    api.http.patch(f"/api/v1/products/{product_id}/", json={"stock": 12},
                   headers=api.auth("admin"))
    trail = text(staff.get(f"/staff/products/{product_id}"))
    assert "set through the API (+8)" in trail
