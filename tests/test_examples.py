"""The README's example of another service built on shop_core must keep working."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_kiosk_example_sells_and_is_paid_through_the_core() -> None:
    result = subprocess.run([sys.executable, str(EXAMPLES / "kiosk.py")], capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == "Order 1: success, 45.00 EGP"


def test_fulfilment_example_hears_of_the_paid_order_once_in_process() -> None:
    result = subprocess.run([sys.executable, str(EXAMPLES / "fulfilment.py")],
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "Pack order 1: 3 x Mint tea"
