"""The SQL repository of the stock audit trail."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from shop_adapters.sqlalchemy.repositories.base import PageStatements, Repository
from shop_adapters.sqlalchemy.tables import stock_audit
from shop_core.pagination import Page, PageRequest
from shop_core.stock_audit import StockChange, StockChangeKind


def _change(row: Row[Any]) -> StockChange:
    return StockChange(product_id=row.product_id, user_id=row.user_id,
                       kind=StockChangeKind(row.kind), before=row.before, after=row.after,
                       reason=row.reason, changed_at=row.changed_at,
                       request_key=row.request_key)


_TRAIL = PageStatements.build(stock_audit,
                              [stock_audit.c.product_id == sa.bindparam("product_id")],
                              [stock_audit.c.id.desc()])
_BY_KEY = sa.select(stock_audit).where(stock_audit.c.request_key == sa.bindparam("key"))


class SqlStockAuditRepository(Repository):
    def add(self, change: StockChange) -> bool:
        return self._insert_ignoring_conflict(stock_audit, {
            "product_id": change.product_id, "user_id": change.user_id,
            "kind": change.kind.value, "before": change.before, "after": change.after,
            "reason": change.reason, "changed_at": change.changed_at,
            "request_key": change.request_key,
        }, ["request_key"])

    def get_by_request_key(self, request_key: str) -> StockChange | None:
        row = self._conn.execute(_BY_KEY, {"key": request_key}).first()
        return _change(row) if row is not None else None

    def list_for_product(self, product_id: int, page: PageRequest) -> Page[StockChange]:
        rows, count = self._page(_TRAIL, {"product_id": product_id}, page)
        return Page(items=[_change(row) for row in rows], count=count, request=page)
