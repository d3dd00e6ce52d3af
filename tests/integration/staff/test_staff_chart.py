"""The dashboard's orders-per-hour chart, drawn on the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shop_core.reports import HourCount
from shop_web.staff.chart import hourly_chart

START = datetime(2026, 12, 3, 0, tzinfo=UTC)


def test_the_busiest_hour_fills_the_plot_and_the_others_scale_to_it() -> None:
    hours = [HourCount(START + timedelta(hours=h), count) for h, count in enumerate([0, 2, 4])]
    chart = hourly_chart(hours)
    full = chart.baseline - chart.top
    assert [round(bar.height, 1) for bar in chart.bars] == [0, round(full / 2, 1), full]
    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)
    assert [bar.label for bar in chart.bars if bar.tick] == ["00:00"]


def test_a_day_without_orders_draws_empty_bars() -> None:
    chart = hourly_chart([HourCount(START + timedelta(hours=h), 0) for h in range(24)])
    assert {bar.height for bar in chart.bars} == {0} and len(chart.bars) == 24
