"""A page of results, the shape every list in the shop takes."""

from __future__ import annotations

from typing import Generic, TypeVar

from attrs import field, frozen

from shop_core.errors import Rule, ValidationError, Violation

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@frozen
class PageRequest:
    """Which page to read: 1-based `page`, at most `MAX_PAGE_SIZE` per page."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __attrs_post_init__(self) -> None:
        errors: dict[str, list[Violation]] = {}
        if self.page < 1:
            errors["page"] = [Violation(Rule.PAGE_BELOW_ONE)]
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            errors["page_size"] = [Violation(Rule.PAGE_SIZE_RANGE, MAX_PAGE_SIZE)]
        if errors:
            raise ValidationError(errors)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@frozen
class Page(Generic[T]):
    """`items` of one page out of `count` matching results."""

    items: tuple[T, ...] = field(converter=tuple)
    count: int
    request: PageRequest

    @property
    def has_next(self) -> bool:
        return self.request.offset + len(self.items) < self.count

    @property
    def has_previous(self) -> bool:
        return self.request.page > 1
