"""A real HTTP server on 127.0.0.1 standing in for Paymob (or for the shop's webhook), and
the shop-side objects the Paymob tests share. `requests` is never patched."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from attrs import define, field

from shop_adapters.paymob.settings import PaymobSettings
from shop_core.accounts import User
from shop_core.catalogue import Product
from shop_core.money import Money
from shop_core.orders import CartLine
from shop_core.testing import FakeClock, FakeExpiryScheduler, FakeUnitOfWork
from shop_core.use_cases.ordering import OrderingServices, PlaceOrder

SECRET_KEY = "egy_sk_test_6b1f0c7d9e2a4b8c-SECRET"
HMAC_SECRET = "HMAC-7f3e91c2d4a8b6e0-SECRET"
PUBLIC_KEY = "egy_pk_test_public"
API_KEY = "ZXlKaGJHY2lPaUpJVXpVeE1pSXNJblI1Y0NJNklrcFhWQ0o5-API-KEY"


@define
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@define
class StubServer:
    """Answers every request with `status`/`body` after `delay` seconds, recording it; the
    first requests get `statuses`, in turn, when some are given. A request whose method and
    path (without the query) have a `route` gets that route's answer instead."""

    url: str = ""
    status: int = 201
    statuses: list[int] = field(factory=list)
    body: bytes = b"{}"
    content_type: str = "application/json"
    delay: float = 0.0
    requests: list[Recorded] = field(factory=list)
    stop: threading.Event = field(factory=threading.Event)
    routes: dict[tuple[str, str], tuple[int, bytes]] = field(factory=dict)

    def route(self, method: str, path: str, status: int, payload: Any) -> None:
        self.routes[(method, path)] = (status, json.dumps(payload).encode())

    def on(self, path: str) -> list[Recorded]:
        """The requests recorded for `path`."""
        return [r for r in self.requests if r.path == path]

    def reply_json(self, status: int, payload: Any) -> None:
        self.status, self.body = status, json.dumps(payload).encode()
        self.content_type = "application/json"

    def reply_text(self, status: int, text: str, content_type: str = "text/html") -> None:
        self.status, self.body, self.content_type = status, text.encode(), content_type


def _handler(stub: StubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self._answer("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._answer("PUT")

        def do_GET(self) -> None:  # noqa: N802
            self._answer("GET")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            stub.requests.append(Recorded(method, self.path, dict(self.headers.items()),
                                          self.rfile.read(length)))
            if stub.delay and stub.stop.wait(stub.delay):
                return
            routed = stub.routes.get((method, self.path.partition("?")[0]))
            if routed is not None:
                status, body = routed
            else:
                status = stub.statuses.pop(0) if stub.statuses else stub.status
                body = stub.body
            self.send_response(status)
            self.send_header("Content-Type", stub.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


@pytest.fixture
def stub_server() -> Iterator[StubServer]:
    stub = StubServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.stop.set()  # releases any handler still sleeping through a "slow" reply
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A URL on 127.0.0.1 where nothing listens: the port is bound but never listening,
    so connecting is refused at once and no other process can take the port meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def make_settings(api_base: str = "https://accept.paymob.com", **changes: Any) -> PaymobSettings:
    values: dict[str, Any] = {
        "api_base": api_base, "secret_key": SECRET_KEY, "public_key": PUBLIC_KEY,
        "hmac_secret": HMAC_SECRET, "integration_ids": (4097558, 4097559),
        "public_base_url": "https://shop.example", "connect_timeout": 1.0,
        "read_timeout": 2.0, "api_key": API_KEY, "inquiry_read_timeout": 0.5,
    }
    values.update(changes)
    return PaymobSettings(**values)


@define
class ShopWorld:
    """A fake database holding one customer and two products, ready to place orders."""

    uow: FakeUnitOfWork
    clock: FakeClock
    user_id: int
    pen_id: int
    book_id: int

    def services(self, gateway: Any) -> OrderingServices:
        return OrderingServices(gateway=gateway, scheduler=FakeExpiryScheduler(),
                                clock=self.clock)

    def cart(self) -> PlaceOrder:
        # 2 x 12.50 + 1 x 199.99 = 224.99 EGP
        return PlaceOrder(user_id=self.user_id,
                          cart=(CartLine(self.pen_id, 2), CartLine(self.book_id, 1)))

    def add_product(self, name: str, price: Money, stock: int) -> int:
        now = self.clock.now()
        with self.uow:
            product = self.uow.products.add(Product(
                id=None, name=name, description="", price=price, stock=stock,
                is_deleted=False, created_at=now, updated_at=now))
            self.uow.commit()
        assert product.id is not None
        return product.id

    def stock(self, product_id: int) -> int:
        with self.uow:
            product = self.uow.products.get(product_id)
        assert product is not None
        return product.stock


@pytest.fixture
def world() -> ShopWorld:
    clock = FakeClock()
    uow = FakeUnitOfWork()
    now = clock.now()
    with uow:
        user = uow.users.add(User(id=None, username="amira", email="amira@example.com",
                                  first_name="Amira", last_name="Fathy", is_staff=False,
                                  password_hash="x", date_joined=now - timedelta(days=3)))
        pen = uow.products.add(Product(id=None, name="Fountain pen", description="",
                                       price=Money(1250, "EGP"), stock=10, is_deleted=False,
                                       created_at=now, updated_at=now))
        book = uow.products.add(Product(id=None, name="Notebook", description="",
                                        price=Money(19999, "EGP"), stock=5, is_deleted=False,
                                        created_at=now, updated_at=now))
        uow.commit()
    assert user.id and pen.id and book.id
    return ShopWorld(uow=uow, clock=clock, user_id=user.id, pen_id=pen.id, book_id=book.id)
