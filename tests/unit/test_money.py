from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_core.money import Money, TooManyDecimals, places, total


@pytest.mark.parametrize(
    ("text", "minor"),
    [("199.99", 19999), ("0.01", 1), ("5", 500), ("5.5", 550), ("5.50", 550),
     ("0", 0), ("-3.07", -307), (" 12.30 ", 1230), ("100000000.00", 10_000_000_000)],
)
def test_decimal_string_is_read_as_minor_units(text: str, minor: int) -> None:
    assert Money.parse(text, "EGP") == Money(minor, "EGP")


@pytest.mark.parametrize(
    ("minor", "text"),
    [(19999, "199.99"), (1, "0.01"), (10, "0.10"), (500, "5.00"), (0, "0.00"),
     (-307, "-3.07"), (-5, "-0.05")],
)
def test_minor_units_are_written_with_two_places(minor: int, text: str) -> None:
    assert Money(minor, "EGP").format() == text


def test_str_names_the_currency() -> None:
    assert str(Money(19999, "EGP")) == "199.99 EGP"


@pytest.mark.parametrize("text", ["1.999", "0.001", "1.", ".5", "1,00", "1e3", "abc", "",
                                  "--1", "+1", "1.2.3", "NaN", "inf", "1 000",
                                  "\u0661\u0669\u0669.\u0669\u0669", "\uff11\uff12.50"])
def test_parse_refuses_anything_but_a_two_place_decimal(text: str) -> None:
    with pytest.raises(ValueError):
        Money.parse(text, "EGP")


@pytest.mark.parametrize("value", [1.5, 199.99, True, 19999, None])
def test_parse_refuses_non_strings(value: Any) -> None:
    with pytest.raises(TypeError):
        Money.parse(value, "EGP")


@pytest.mark.parametrize("amount", [1.0, 0.5, True, False, "100", None])
def test_amount_must_be_an_int_of_minor_units(amount: Any) -> None:
    with pytest.raises(TypeError):
        Money(amount, "EGP")


@pytest.mark.parametrize("currency", ["egp", "EG", "EGPP", "", "E1P", None])
def test_currency_must_be_a_three_letter_iso_code(currency: Any) -> None:
    with pytest.raises(ValueError):
        Money(100, currency)


def test_adding_and_subtracting_keep_the_currency() -> None:
    assert Money(150, "EGP") + Money(250, "EGP") == Money(400, "EGP")
    assert Money(150, "EGP") - Money(250, "EGP") == Money(-100, "EGP")


def test_mixed_currencies_never_combine() -> None:
    egp, usd = Money(100, "EGP"), Money(100, "USD")
    for combine in (lambda: egp + usd, lambda: egp - usd, lambda: egp < usd,
                    lambda: egp <= usd, lambda: egp > usd, lambda: egp >= usd):
        with pytest.raises(ValueError):
            combine()


def test_money_never_combines_with_a_plain_number() -> None:
    with pytest.raises(TypeError):
        Money(100, "EGP") + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money(100, "EGP") < 1  # type: ignore[operator]  # noqa: B015


def test_same_amount_in_another_currency_is_not_equal() -> None:
    assert Money(100, "EGP") != Money(100, "USD")


def test_times_multiplies_the_minor_units() -> None:
    assert Money(19999, "EGP").times(3) == Money(59997, "EGP")
    assert Money(19999, "EGP").times(0) == Money(0, "EGP")


@pytest.mark.parametrize("quantity", [1.5, True, "2"])
def test_times_refuses_a_non_integer_quantity(quantity: Any) -> None:
    with pytest.raises(TypeError):
        Money(100, "EGP").times(quantity)


def test_amounts_compare_within_a_currency() -> None:
    small, big = Money(99, "EGP"), Money(100, "EGP")
    assert small < big and small <= big and big > small and big >= small
    assert not big < small and big <= Money(100, "EGP")


def test_is_positive_only_above_zero() -> None:
    assert Money(1, "EGP").is_positive
    assert not Money(0, "EGP").is_positive
    assert not Money(-1, "EGP").is_positive


def test_total_sums_amounts_and_is_zero_when_empty() -> None:
    assert total([], "EGP") == Money(0, "EGP")
    assert total([Money(1, "EGP"), Money(2, "EGP")], "EGP") == Money(3, "EGP")
    with pytest.raises(ValueError):
        total([Money(1, "USD")], "EGP")


def test_money_is_an_immutable_hashable_value() -> None:
    price = Money(100, "EGP")
    assert {price, Money(100, "EGP")} == {price}
    with pytest.raises(AttributeError):
        price.amount = 5  # type: ignore[misc]


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_then_parse_gives_back_the_same_money(amount: int) -> None:
    money = Money(amount, "EGP")
    assert Money.parse(money.format(), "EGP") == money


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=99))
def test_two_place_decimal_survives_parse_then_format(whole: int, cents: int) -> None:
    text = f"{whole}.{cents:02d}"
    assert Money.parse(text, "EGP").format() == text


@given(st.integers(-(10**9), 10**9), st.integers(-(10**9), 10**9))
def test_addition_agrees_with_integer_addition(a: int, b: int) -> None:
    assert (Money(a, "EGP") + Money(b, "EGP")).amount == a + b
    assert (Money(a, "EGP") < Money(b, "EGP")) == (a < b)


@pytest.mark.parametrize(("currency", "text", "minor"), [
    ("OMR", "12.500", 12500), ("OMR", "12.5", 12500), ("OMR", "0.001", 1), ("OMR", "7", 7000),
    ("SAR", "12.50", 1250), ("AED", "0.99", 99), ("PKR", "1500", 150000),
])
def test_each_currency_is_read_in_its_own_smallest_unit(currency: str, text: str,
                                                        minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(("minor", "currency", "text"), [
    (12500, "OMR", "12.500"), (1, "OMR", "0.001"), (-1250, "OMR", "-1.250"),
    (1250, "SAR", "12.50"), (99, "AED", "0.99"),
])
def test_wire_amounts_keep_the_currency_s_decimals(minor: int, currency: str,
                                                    text: str) -> None:
    assert Money(minor, currency).format() == text


@pytest.mark.parametrize(("currency", "text", "places"), [
    ("EGP", "1.005", 2), ("EGP", "12.500", 2), ("SAR", "0.001", 2), ("OMR", "1.0005", 3),
])
def test_a_finer_amount_than_the_currency_has_is_refused(currency: str, text: str,
                                                         places: int) -> None:
    with pytest.raises(TooManyDecimals) as refused:
        Money.parse(text, currency)
    assert refused.value.places == places


def test_minor_units_are_iso_4217_s() -> None:
    assert {code: places(code) for code in ("EGP", "SAR", "AED", "PKR", "OMR")} == {
        "EGP": 2, "SAR": 2, "AED": 2, "PKR": 2, "OMR": 3}


@given(st.integers(min_value=-10**12, max_value=10**12), st.sampled_from(["EGP", "OMR"]))
def test_format_and_parse_round_trip_in_every_currency(minor: int, currency: str) -> None:
    assert Money.parse(Money(minor, currency).format(), currency) == Money(minor, currency)
