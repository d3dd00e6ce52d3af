"""What a committed transaction did to stock and to order deadlines, for whoever watches
(the shop's metrics). The repositories note it as they write; the unit of work hands it to
its observer only after the commit, so a rolled-back reservation is never counted."""

from __future__ import annotations

from typing import Protocol

from attrs import define, field


@define
class StockMovements:
    """Units taken from and given back to stock, and for each order that timed out how many
    seconds after its deadline it did."""

    reserved: int = 0
    released: int = 0
    expiry_lags: list[float] = field(factory=list)

    def __bool__(self) -> bool:
        return bool(self.reserved or self.released or self.expiry_lags)


class MovementObserver(Protocol):
    def committed(self, movements: StockMovements) -> None:
        """Called after each commit that moved stock or expired orders; must not raise."""
        ...
