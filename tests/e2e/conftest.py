"""A real shop server (the `make run` path: `shop run-dev`, gunicorn, SQLite, sandbox) and a
real Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import unavailable
from tests.ports import free_port, wait_until_healthy

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a closed network: without them Chromium keeps calling home and stalls.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        for command in (["apt-get", "update", "-qq"],
                        ["apt-get", "install", "-y", "-qq", "chromium"]):
            subprocess.run(command, check=False, timeout=600, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def running_shop(instance: Path, **env_overrides: str) -> Iterator[str]:
    """`shop run-dev` on a free port with its own instance folder and one gunicorn worker."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAYMOB_", "DATABASE_URL", "REDIS_URL", "SHOP_"))}
    env.update(PORT=str(port), SHOP_INSTANCE_PATH=str(instance), WEB_CONCURRENCY="1",
               **env_overrides)
    shop = Path(sys.executable).with_name("shop")
    log = (instance / "server.log").open("w")
    server = subprocess.Popen([str(shop), "run-dev"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server, instance / "server.log")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_shop(tmp_path_factory.mktemp("instance")) as base:
        yield base


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """Screenshots land in test-output/<test name>/ at the repository root."""
    root: Path = Path(__file__).resolve().parents[2] / "test-output" / request.node.name
    root.mkdir(parents=True, exist_ok=True)
    return root


def register_customer(base: str) -> dict[str, str]:
    """A new customer's Authorization header."""
    name = f"buyer_{uuid.uuid4().hex[:8]}"
    password = "correct-horse-battery"
    registered = requests.post(f"{base}/api/v1/register/", json={
        "username": name, "email": f"{name}@example.com", "password": password}, timeout=10)
    assert registered.status_code == 201, registered.text
    tokens = requests.post(f"{base}/api/v1/token/",
                           json={"username": name, "password": password}, timeout=10).json()
    return {"Authorization": f"Bearer {tokens['access']}"}


def first_product_in_stock(base: str) -> dict[str, Any]:
    products = requests.get(f"{base}/api/v1/products/?in_stock=true", timeout=10).json()
    assert products["results"], "make run seeds demo products"
    return dict(products["results"][0])
