from __future__ import annotations

import pytest

from .builders import Shop


@pytest.fixture
def shop() -> Shop:
    return Shop()
