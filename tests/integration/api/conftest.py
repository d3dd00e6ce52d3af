"""The API through the Flask test client, on a fresh, migrated database per test.

`client` runs each test on SQLite and PostgreSQL (the contract's rows); `lite` on SQLite only,
for the many edge cases whose outcome cannot depend on the database."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from shop_adapters.sqlalchemy.migrate import upgrade
from shop_core.money import Money
from shop_core.testing import FakeClock, FakePaymentGateway, FakePaymentOperations
from shop_core.use_cases.catalogue import ProductDetails, create_product
from shop_web.app import create_app
from shop_web.bootstrap import Shop, build_shop
from shop_web.config import Settings

JWT_SECRET = "api-tests-secret-0123456789abcdef-0123456789"
PASSWORD = "correct horse battery"


class Reply:
    """A test response whose JSON body is typed `Any`, as tests read it."""

    def __init__(self, response: TestResponse) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self.data = response.data
        self.json: Any = response.get_json(silent=True)


class Http:
    """The Flask test client, answering `Reply`s."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def get(self, path: str, **kwargs: Any) -> Reply:
        return Reply(self._client.get(path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> Reply:
        return Reply(self._client.post(path, **kwargs))

    def put(self, path: str, **kwargs: Any) -> Reply:
        return Reply(self._client.put(path, **kwargs))

    def patch(self, path: str, **kwargs: Any) -> Reply:
        return Reply(self._client.patch(path, **kwargs))

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return Reply(self._client.delete(path, **kwargs))

    def options(self, path: str, **kwargs: Any) -> Reply:
        return Reply(self._client.options(path, **kwargs))


class Api:
    """A test client with the shop behind it, and shortcuts for the usual set-up."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.http = Http(app.test_client())
        self.shop: Shop = app.extensions["shop"]

    def register(self, username: str, *, staff: bool = False, **extra: str) -> dict[str, Any]:
        body = {"username": username, "email": f"{username}@example.com",
                "password": PASSWORD, **extra}
        response = self.http.post("/api/v1/register/", json=body)
        assert response.status_code == 201, response.json
        if staff:
            with self.shop.uow() as uow:
                user = uow.users.get(response.json["id"])
                assert user is not None
                user.is_staff = True
                uow.users.update(user)
                uow.commit()
        return dict(response.json)

    def tokens(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        response = self.http.post("/api/v1/token/",
                                  json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        return dict(response.json)

    def auth(self, username: str) -> dict[str, str]:
        """Register `username` if needed and return its Authorization header."""
        with self.shop.uow() as uow:
            known = uow.users.get_by_username(username) is not None
        if not known:
            self.register(username, staff=username.startswith("admin"))
        return {"Authorization": f"Bearer {self.tokens(username)['access']}"}

    def product(self, name: str = "Desk lamp", price: str = "199.99", stock: int = 10,
                **extra: Any) -> int:
        product = create_product(self.shop.uow(), self.shop.clock, ProductDetails(
            name=name, price=Money.parse(price, "EGP"), stock=stock, **extra))
        assert product.id is not None
        return product.id

    def stock(self, product_id: int) -> int:
        with self.shop.uow() as uow:
            product = uow.products.get(product_id)
        assert product is not None
        return product.stock


AppFactory = Callable[..., Api]


def _factory(url: str, clock: FakeClock, gateway: FakePaymentGateway,
             operations: FakePaymentOperations, shops: list[Shop],
             sqlite_template: Path | None = None) -> AppFactory:
    if sqlite_template is not None:  # a copy of a migrated file: migrating takes longer
        shutil.copyfile(sqlite_template, url.removeprefix("sqlite:///"))
    else:
        upgrade(url)

    def make(**env: str) -> Api:
        environ = {"SHOP_ENV": "test", "DATABASE_URL": url, "JWT_SECRET_KEY": JWT_SECRET,
                   "PASSWORD_HASH_PROFILE": "cheap", "PUBLIC_BASE_URL": "http://shop.test",
                   **env}
        shop = build_shop(Settings.from_env(environ), clock=clock, gateway=gateway,
                          operations=operations)
        shops.append(shop)
        return Api(create_app(environ, shop=shop))

    return make


@pytest.fixture
def clock() -> FakeClock:
    # Near the real time: JWTs are stamped with the real clock, refresh sessions with this one.
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def gateway() -> FakePaymentGateway:
    return FakePaymentGateway()


@pytest.fixture
def operations() -> FakePaymentOperations:
    return FakePaymentOperations()


@pytest.fixture
def make_api(database_url: str, clock: FakeClock, gateway: FakePaymentGateway,
             operations: FakePaymentOperations) -> Iterator[AppFactory]:
    shops: list[Shop] = []
    yield _factory(database_url, clock, gateway, operations, shops)
    for shop in shops:
        shop.database.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "shop.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def make_lite(sqlite_url: str, clock: FakeClock, gateway: FakePaymentGateway,
              operations: FakePaymentOperations,
              migrated_sqlite: Path) -> Iterator[AppFactory]:
    shops: list[Shop] = []
    yield _factory(sqlite_url, clock, gateway, operations, shops, migrated_sqlite)
    for shop in shops:
        shop.database.dispose()


@pytest.fixture
def client(make_api: AppFactory) -> Api:
    return make_api()


@pytest.fixture
def lite(make_lite: AppFactory) -> Api:
    return make_lite()
