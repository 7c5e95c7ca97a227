"""How the report writes numbers (simulator.views.report.vocabulary.fmt)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.views.report.vocabulary import fmt, fmt_ci


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (12_345, "12,345"), (123.4, "123"), (12.34, "12.3"), (1.234, "1.23"),
    (0.25, "0.250"),
    # below 0.1 still three significant digits: a small share is not printed as 0.002
    (0.002, "0.00200"), (0.0023456, "0.00235"), (0.0234, "0.0234"), (-0.0042, "−0.00420"),
    (2.3e-5, "0.0000230"),
    # rounding up to the next decade keeps three digits, not four
    (0.09999, "0.100"), (0.00099996, "0.00100"),
    (5e-7, "≈0"), (float("nan"), "–"), (None, "–"),
])
def test_fmt_writes_about_three_significant_digits(value, text):
    assert fmt(value) == text


def test_fmt_signs_and_intervals():
    assert fmt(0.0021, signed=True) == "+0.00210"
    assert fmt_ci(0.0018, 0.0025) == "[0.00180, 0.00250]"  # the ends are told apart
    assert fmt_ci(None, 1) == ""


@given(st.floats(min_value=1e-6, max_value=0.1, exclude_min=True, exclude_max=True))
def test_small_values_keep_three_significant_digits(v):
    text = fmt(v)
    assert "e" not in text
    digits = text.replace("0.", "", 1).lstrip("0")
    assert len(digits) == 3, text  # three significant digits, trailing zeros included
    assert math.isclose(float(text), v, rel_tol=5e-3)  # within half a unit of the third digit
