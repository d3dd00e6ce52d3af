"""A bar chart of orders per hour, drawn as SVG on the server: no script, readable by a
screen reader through its title and the table it summarises."""

from __future__ import annotations

from attrs import frozen

from shop_core.reports import HourCount

WIDTH, HEIGHT = 720, 180
LEFT, BOTTOM, TOP = 36, 24, 10


@frozen
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str  # the hour, "14:00"
    tick: bool  # whether the axis names this hour


@frozen
class Chart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    left: int
    baseline: float
    top: int


def hourly_chart(hours: list[HourCount]) -> Chart:
    """Bars scaled so the busiest hour fills the height; every third hour labelled."""
    peak = max((hour.count for hour in hours), default=0) or 1
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(hours), 1)
    bars = []
    for index, hour in enumerate(hours):
        height = plot_height * hour.count / peak
        bars.append(Bar(x=LEFT + index * slot + 1, y=TOP + plot_height - height,
                        width=max(slot - 2, 1), height=height, count=hour.count,
                        label=hour.hour.strftime("%H:00"), tick=index % 3 == 0))
    return Chart(WIDTH, HEIGHT, bars, peak, LEFT, TOP + plot_height, TOP)
