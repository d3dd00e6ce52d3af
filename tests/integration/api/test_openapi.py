"""The served OpenAPI document: complete, and true of the API (checked by schemathesis)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api.conftest import Api

SECURED = {("/api/v1/profile/", "get"), ("/api/v1/profile/", "put"),
           ("/api/v1/profile/", "patch"), ("/api/v1/products/", "post"),
           ("/api/v1/products/{product_id}/", "put"), ("/api/v1/orders/", "get"),
           ("/api/v1/orders/", "post"), ("/api/v1/orders/{order_id}/", "get")}


def test_document_describes_every_endpoint_and_its_errors(lite: Api) -> None:
    response = lite.http.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.data.startswith(b'{\n  "')  # indented for people to read
    document = response.json
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in ("/api/v1/register/", "/api/v1/token/", "/api/v1/token/refresh/",
                 "/api/v1/profile/", "/api/v1/products/", "/api/v1/products/{product_id}/",
                 "/api/v1/orders/", "/api/v1/orders/{order_id}/", "/healthz", "/readyz"):
        assert path in paths, path
    for path, method in SECURED:
        operation = paths[path][method]
        assert "401" in operation["responses"], (path, method)
        assert operation["security"] == [{"bearerAuth": []}]
        if "requestBody" in operation:
            assert "400" in operation["responses"], (path, method)
    assert "403" in paths["/api/v1/products/"]["post"]["responses"]
    assert {"409", "422", "502"} <= set(paths["/api/v1/orders/"]["post"]["responses"])
    assert "429" in paths["/api/v1/token/"]["post"]["responses"]
    price = document["components"]["schemas"]["ProductWrite"]["properties"]["price"]
    assert price["type"] == "string" and "pattern" in price


def test_operations_have_stable_names_and_public_reads_need_no_token(lite: Api) -> None:
    """What a generated client is built from: a function per operationId, anonymous calls
    where an operation lists no security, enum members named by x-enum-varnames."""
    paths = lite.http.get("/api/v1/openapi.json").json["paths"]
    operations = [(path, method, operation) for path, methods in paths.items()
                  for method, operation in methods.items() if method != "parameters"]

    names = [operation.get("operationId") for _, _, operation in operations]
    assert None not in names and len(set(names)) == len(names)
    by_name = {operation["operationId"]: (path, method)
               for path, method, operation in operations}
    assert by_name["register"] == ("/api/v1/register/", "post")
    assert by_name["obtainToken"] == ("/api/v1/token/", "post")
    assert by_name["listProducts"] == ("/api/v1/products/", "get")
    assert by_name["placeOrder"] == ("/api/v1/orders/", "post")
    for name, path, method in (
            ("refundOrder", "/api/v1/orders/{order_id}/refunds/", "post"),
            ("voidOrder", "/api/v1/orders/{order_id}/void/", "post"),
            ("captureOrder", "/api/v1/orders/{order_id}/capture/", "post"),
            ("getOrderLedger", "/api/v1/orders/{order_id}/payments/", "get")):
        assert by_name[name] == (path, method)
        operation = paths[path][method]
        assert operation["security"] == [{"bearerAuth": []}]
        assert {"401", "403", "404"} <= set(operation["responses"])
        if method == "post":
            assert {"201", "202", "409", "422", "502"} <= set(operation["responses"])
            [key] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
            assert key["required"] is True
    for path, method in (("/api/v1/products/", "get"), ("/api/v1/products/{product_id}/", "get"),
                         ("/api/v1/register/", "post"), ("/api/v1/token/", "post"),
                         ("/api/v1/token/refresh/", "post")):
        assert paths[path][method].get("security", []) == [], (path, method)
    [ordering] = [p for p in paths["/api/v1/products/"]["get"]["parameters"]
                  if p["name"] == "ordering"]
    names_of = dict(zip(ordering["schema"]["enum"], ordering["schema"]["x-enum-varnames"],
                        strict=True))
    assert names_of["-price"] == "PRICE_DESC"


def test_docs_page_is_served_with_local_assets(lite: Api) -> None:
    page = lite.http.get("/api/v1/docs")
    assert page.status_code == 200 and b"swagger-ui" in page.data
    assert b"//" not in page.data.split(b"<script>")[0].replace(b"<!DOCTYPE html>", b"")
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert lite.http.get(f"/api/v1/docs/assets/{asset}").status_code == 200, asset


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.mark.parametrize(("path", "method", "staff"), [
    ("/api/v1/products/", "GET", False),
    ("/api/v1/products/", "POST", True),
    ("/api/v1/products/{product_id}/", "PATCH", True),
    ("/api/v1/orders/", "GET", True),
    ("/api/v1/orders/", "POST", False),
    ("/api/v1/register/", "POST", False),
    ("/api/v1/orders/{order_id}/refunds/", "POST", True),
    ("/api/v1/orders/{order_id}/payments/", "GET", True),
])
def test_generated_requests_get_documented_answers(make_lite: Any, path: str, method: str,
                                                   staff: bool) -> None:
    api: Api = make_lite(RATE_LIMIT_AUTH="10000/minute")
    for number in range(3):
        api.product(name=f"Product {number}", stock=1000)
    headers = api.auth("admin" if staff else "amira")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.app)
    operation = schema[path][method]

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        case.headers = {**(case.headers or {}), **headers}
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    check()
