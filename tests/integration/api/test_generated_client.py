"""A client generated from the served OpenAPI document by openapi-python-client, driving a
real shop over HTTP: the document is only as good as the client an integrator gets from it."""

from __future__ import annotations

import importlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from shop_adapters.sqlalchemy.migrate import upgrade
from shop_core.money import Money
from shop_core.use_cases.catalogue import ProductDetails, create_product
from shop_web.app import create_app
from shop_web.bootstrap import build_shop
from shop_web.config import Settings
from tests.ports import free_port

from .conftest import JWT_SECRET, PASSWORD

PACKAGE = "shop_client"


@pytest.fixture(scope="module")
def shop_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("generated-client-shop")
    url = f"sqlite:///{folder}/shop.db"
    upgrade(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environ = {"SHOP_ENV": "test", "DATABASE_URL": url, "JWT_SECRET_KEY": JWT_SECRET,
               "PASSWORD_HASH_PROFILE": "cheap", "PUBLIC_BASE_URL": base}
    shop = build_shop(Settings.from_env(environ))
    server = make_server("127.0.0.1", port, create_app(environ, shop=shop), threaded=True)
    for name, price, stock in (("Mug", "149.99", 10), ("Tote", "89.50", 1)):
        create_product(shop.uow(), shop.clock,
                       ProductDetails(name, Money.parse(price, "EGP"), stock))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    shop.database.dispose()


@pytest.fixture(scope="module")
def client_package(shop_base: str, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[ModuleType]:
    folder = tmp_path_factory.mktemp("generated-client")
    document = folder / "openapi.json"
    document.write_text(requests.get(f"{shop_base}/api/v1/openapi.json", timeout=10).text)
    config = folder / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    generator = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run(
        [str(generator), "generate", "--path", str(document), "--output-path",
         str(folder / PACKAGE), "--meta", "none", "--config", str(config),
         "--fail-on-warning"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _call(package: ModuleType, operation: str, **kwargs: Any) -> Any:
    """`sync_detailed` of the generated operation module, e.g. `accounts.register`."""
    module = importlib.import_module(f"{package.__name__}.api.{operation}")
    return module.sync_detailed(**kwargs)


def test_a_generated_client_registers_signs_in_browses_orders_and_reads_back(
        shop_base: str, client_package: ModuleType) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    anonymous = client_package.Client(base_url=shop_base, raise_on_unexpected_status=True)

    registered = _call(client_package, "accounts.register", client=anonymous,
                       body=models.Register(username="amira", email="amira@example.com",
                                            password=PASSWORD))
    refused = _call(client_package, "accounts.obtain_token", client=anonymous,
                    body=models.TokenRequest(username="amira", password="not-it-at-all"))
    tokens = _call(client_package, "accounts.obtain_token", client=anonymous,
                   body=models.TokenRequest(username="amira", password=PASSWORD))
    catalogue = _call(client_package, "products.list_products", client=anonymous,
                      ordering=models.ListProductsOrdering.PRICE_DESC)

    assert registered.status_code == 201 and isinstance(registered.parsed, models.Profile)
    assert refused.status_code == 401 and isinstance(refused.parsed, models.Detail)
    assert isinstance(tokens.parsed, models.TokenPair)
    assert isinstance(catalogue.parsed, models.ProductPage)
    assert [p.name for p in catalogue.parsed.results] == ["Mug", "Tote"]
    assert all(isinstance(p, models.Product) for p in catalogue.parsed.results)

    customer = client_package.AuthenticatedClient(
        base_url=shop_base, token=tokens.parsed.access, raise_on_unexpected_status=True)
    mug, tote = catalogue.parsed.results
    placed = _call(client_package, "orders.place_order", client=customer,
                   idempotency_key="first-order",
                   body=models.PlaceOrder(cart_items=[models.CartItem(product_id=mug.id,
                                                                      quantity=2)]))
    short = _call(client_package, "orders.place_order", client=customer,
                  body=models.PlaceOrder(cart_items=[models.CartItem(product_id=tote.id,
                                                                     quantity=5)]))
    assert placed.status_code == 201 and isinstance(placed.parsed, models.Order)
    assert placed.parsed.status == models.OrderStatus.PENDING
    assert placed.parsed.payment_url.startswith(shop_base)
    assert short.status_code == 409 and isinstance(short.parsed, models.OutOfStock)
    assert short.parsed.unavailable[0].available == 1

    read = _call(client_package, "orders.get_order", client=customer,
                 order_id=placed.parsed.id)
    mine = _call(client_package, "orders.list_orders", client=customer)

    assert isinstance(read.parsed, models.Order)
    assert read.parsed.id == placed.parsed.id and read.parsed.total == "299.98"
    assert isinstance(mine.parsed, models.OrderPage)
    assert [order.id for order in mine.parsed.results] == [placed.parsed.id]
