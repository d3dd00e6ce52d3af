"""The dashboard: the shop at a glance."""

from __future__ import annotations

from flask import render_template

from shop_core.use_cases.back_office import DASHBOARD_LIST_SIZE, LOW_STOCK_BELOW
from shop_core.use_cases.back_office import dashboard as read_dashboard
from shop_web.bootstrap import current_shop
from shop_web.staff.blueprint import blueprint
from shop_web.staff.chart import hourly_chart


@blueprint.route("/")
def dashboard() -> str:
    shop = current_shop()
    board = read_dashboard(shop.reader(), shop.clock)
    return render_template("staff/dashboard.html", section="staff.dashboard", board=board,
                           chart=hourly_chart(board.orders_per_hour),
                           low_stock_below=LOW_STOCK_BELOW, list_size=DASHBOARD_LIST_SIZE,
                           sweep_interval=shop.settings.expiry_sweep_interval)
