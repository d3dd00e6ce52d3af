"""The `shop` command: migrations, admin accounts, demo data, workers and the server."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

import click

from shop_web.config import ConfigurationError, Settings

if TYPE_CHECKING:
    from shop_adapters.jobs.worker import Duties
    from shop_web.bootstrap import Shop

DEMO_PRODUCTS = (
    ("Cairo Coffee Mug", "A 350 ml stoneware mug.", "149.99", 25),
    ("Nile Tote Bag", "Heavy cotton canvas, printed by hand.", "89.50", 40),
    ("Papyrus Notebook", "A5, 120 pages of dotted paper.", "65.00", 60),
    ("Desert Rose Candle", "Soy wax, 40 hours of burning.", "210.00", 15),
    ("Khan el-Khalili Lantern", "Brass and coloured glass.", "799.00", 5),
)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None


def _shop() -> Shop:
    # Imported here so that `shop --help` stays fast and works without a database.
    from shop_web.bootstrap import build_shop

    return build_shop(_settings())


@click.group()
def main() -> None:
    """Run and administer the shop. Settings come from the environment (see the README)."""


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    _upgrade(_settings())
    click.echo("Database is up to date.")


def _upgrade(settings: Settings) -> None:
    from shop_adapters.sqlalchemy.migrate import upgrade

    url = settings.effective_database_url
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url.removeprefix("sqlite:///")) or ".", exist_ok=True)
    upgrade(url)


@main.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--email", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_admin(username: str, email: str, password: str) -> None:
    """Create a staff user, who can manage products and see every order."""
    from shop_core.errors import ValidationError
    from shop_core.use_cases.accounts import Registration
    from shop_web.messages import field_messages

    shop = _shop()
    try:
        user = shop.accounts.register(Registration(username, email, password, is_staff=True))
    except ValidationError as error:
        problems = "; ".join(f"{field}: {' '.join(messages)}"
                             for field, messages in field_messages(error.field_errors).items())
        raise click.ClickException(problems) from None
    click.echo(f"Created admin {user.username} (id {user.id}).")


@main.command("seed-demo")
def seed_demo() -> None:
    """Add a few demo products, once: products that already exist by name are left alone."""
    click.echo(f"Added {_seed_demo(_shop())} demo products.")


def _seed_demo(shop: Shop) -> int:
    from shop_core.catalogue import ProductQuery
    from shop_core.money import Money
    from shop_core.pagination import PageRequest
    from shop_core.use_cases.catalogue import ProductDetails, list_products

    added = 0
    for name, description, price, stock in DEMO_PRODUCTS:
        query = ProductQuery(search=name, include_deleted=True, page=PageRequest(1, 100))
        if any(p.name == name for p in list_products(shop.uow(), query).items):
            continue
        currency = shop.settings.paymob_currency
        shop.catalogue.create(ProductDetails(name, Money.parse(price, currency), stock,
                                             description))
        added += 1
    return added


@main.command()
@click.option("--burst", is_flag=True, help="Work until the queue is empty, then exit.")
def worker(burst: bool) -> None:
    """Run the queue's jobs, its scheduling and the expiry sweep (needs REDIS_URL)."""
    from shop_adapters.jobs.worker import run_worker

    run_worker(_background_duties(), burst=burst)


@main.command()
def scheduler() -> None:
    """Run the queue's scheduling and the expiry sweep, without jobs (needs REDIS_URL)."""
    from shop_adapters.jobs.worker import run_scheduler

    run_scheduler(_background_duties())


def _background_duties() -> Duties:
    from shop_web import jobs, request_log
    from shop_web.metrics import count_in_this_process

    count_in_this_process()
    shop = _shop()
    request_log.configure_logging(shop.settings.log_format)
    try:
        return jobs.duties(shop)
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None


@main.command("expire-orders")
def expire_orders() -> None:
    """Time out every overdue pending order now, and restore its stock."""
    click.echo(f"Expired {_shop().expire_overdue_orders()} orders.")


@main.command("deliver-events")
def deliver_events() -> None:
    """Hand out the outbox and send every delivery due now (what every background process
    does each second), in this process."""
    click.echo(f"Handed out or delivered {_shop().deliver_events()} events.")


@main.group()
def paymob() -> None:
    """Paymob set-up commands."""


@paymob.command("check")
def paymob_check() -> None:
    """Print what the shop sends to Paymob and to whom (never a secret); in live mode, verify
    the keys against Paymob without creating anything. Exits 1 if verification fails."""
    from shop_adapters.paymob.check import describe, verify
    from shop_web.bootstrap import paymob_settings
    from shop_web.config import format_duration

    settings = _settings()
    paymob = paymob_settings(settings)
    live = settings.paymob_mode == "live"
    report = describe(paymob, settings.paymob_account, live=live,
                      base_from_keys=not settings.paymob_api_base,
                      default_window=settings.order_payment_timeout,
                      window_text=format_duration)
    if live:
        verify(report, paymob, settings.paymob_api_key, settings.paymob_account)
    else:
        report.lines.append("Verification: none in sandbox mode (PAYMOB_MODE=live checks "
                            "the keys against Paymob).")
    click.echo("\n".join(report.lines))
    if report.problems:
        click.echo(f"Paymob check FAILED: {len(report.problems)} problem(s).", err=True)
        sys.exit(1)
    if live:
        click.echo("Paymob check passed.")


@main.command()
@click.option("--since", default="24h", show_default=True, metavar="DURATION",
              help="How far back to look at timed-out and cancelled orders: 90s, 30m, 24h, 7d.")
def reconcile(since: str) -> None:
    """Ask Paymob about the payments of orders near or past their deadline, and of orders
    timed out or cancelled since DURATION ago; apply what it reports, as its callback would."""
    window = _duration(since)
    shop = _shop()
    if shop.reconciler is None:
        raise click.ClickException("Live Paymob needs PAYMOB_API_KEY to reconcile.")
    batch = shop.reconciler.policy.batch_size
    asked = changed = failed = 0
    while True:  # a batch a pass (each order asked is not due again), while batches are full
        report = shop.reconcile(window)
        asked, changed, failed = (asked + report.asked, changed + report.changed,
                                  failed + report.failed)
        full = report.asked + report.failed + report.left >= batch
        if not full or report.failed or not report.asked:
            break
    click.echo(f"Asked about {asked} orders: {changed} changed, {failed} inquiries failed.")
    if failed:
        sys.exit(1)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> timedelta:
    number, unit = text[:-1], text[-1:]
    if unit not in _UNITS or not number.isascii() or not number.isdigit() or int(number) < 1:
        raise click.BadParameter(f"{text!r} is not a duration like 90s, 30m, 24h or 7d.",
                                 param_hint="--since")
    return timedelta(seconds=int(number) * _UNITS[unit])


@main.command()
def health() -> None:
    """Check what the shop's processes need: the database, Redis, and that some process
    holds the queue's scheduling duty. Exits 1 if any is missing."""
    from shop_web.health import background_health

    shop = _shop()
    checks = background_health(shop)
    for name, problem in checks.items():
        click.echo(f"{name}: {problem or 'ok'}")
    if shop.redis is None:
        click.echo("redis: not configured (the web process expires orders; no worker needed)")
    if any(checks.values()):
        sys.exit(1)


@main.command()
@click.option("--port", type=int, default=None, help="Defaults to $PORT or 8000.")
@click.option("--workers", type=int, default=None, help="Defaults to $WEB_CONCURRENCY or 2.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads per worker process; defaults to $GUNICORN_THREADS or 8.")
def serve(port: int | None, workers: int | None, threads: int | None) -> None:
    """Serve the API with gunicorn, configured by shop_web/gunicorn_conf.py."""
    _settings()  # refuse a bad environment here, not in every worker
    _serve(port=port, workers=workers, threads=threads)


@main.command("run-dev", hidden=True)
def run_dev() -> None:
    """What `make run` does: migrate, seed the first time, explain, serve."""
    settings = _settings()
    _upgrade(settings)
    from shop_web.bootstrap import build_shop

    added = _seed_demo(build_shop(settings))
    base = settings.public_base_url
    click.echo(
        f"\n  shop is starting on {base}  ({settings.paymob_mode} payments, "
        f"{'embedded SQLite' if not settings.database_url else 'DATABASE_URL'})\n"
        f"  API root:      {base}/api/v1/\n"
        f"  API docs:      {base}/api/v1/docs\n"
        f"  Products:      {base}/api/v1/products/\n"
        + (f"  Added {added} demo products.\n" if added else "")
        + "  Make an admin: .venv/bin/shop create-admin\n"
    )
    _serve(reuse_port=False)


GUNICORN_CONFIG = "python:shop_web.gunicorn_conf"


def _serve(*, port: int | None = None, workers: int | None = None,
           threads: int | None = None, reuse_port: bool = True) -> None:
    """Replace this process with gunicorn running the shop's configuration; the options
    given here reach it as the environment variables it reads."""
    for name, value in (("PORT", port), ("WEB_CONCURRENCY", workers),
                        ("GUNICORN_THREADS", threads)):
        if value is not None:
            os.environ[name] = str(value)
    if not reuse_port:
        os.environ["GUNICORN_REUSE_PORT"] = "0"
    # Threads each get a glibc malloc arena by default, and memory freed in one is not
    # reused by the others: two arenas keep a threaded worker's resident memory flat. Set
    # before gunicorn starts: its forked workers keep the allocator the master began with.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG])
