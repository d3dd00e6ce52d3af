"""Lists as pages, shaped as Django REST framework paginates them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import urlencode

import flask

from shop_core.errors import NotFound
from shop_core.pagination import MAX_PAGE_SIZE, Page, PageRequest


def page_request(args: Mapping[str, Any]) -> PageRequest:
    return PageRequest(page=args["page"], page_size=min(args["page_size"], MAX_PAGE_SIZE))


def page_body(page: Page[Any]) -> dict[str, Any]:
    """`{count, next, previous, results}` with absolute links, as Django REST framework
    paginates; a page past the end is 404 (the first page may be empty)."""
    request = page.request
    if request.page > 1 and not page.items:
        invalid_page()
    return {
        "count": page.count,
        "next": _page_url(request.page + 1) if page.has_next else None,
        "previous": _page_url(request.page - 1) if page.has_previous else None,
        "results": list(page.items),
    }


def invalid_page() -> NoReturn:
    raise NotFound("Invalid page.")


def _page_url(number: int) -> str:
    request = flask.request
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]
    if number > 1:
        args.append(("page", str(number)))
    query = urlencode(args)
    # `request.base_url`, without its round trip through URL quoting and back (6% of a
    # catalogue page's CPU); the API's paths are plain ASCII.
    base = f"{request.scheme}://{request.host}{request.root_path}{request.path}"
    return f"{base}?{query}" if query else base
