"""Accounts on plain data: one folded form per email, and the password policy."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.models import fold_email


@pytest.mark.parametrize(
    "variant",
    [
        "ADMIN@Example.COM",
        "ａｄｍｉｎ@ｅｘａｍｐｌｅ.ｃｏｍ",  # fullwidth
        "ＡＤＭＩＮ@example.com",  # fullwidth capitals
        "admın@example.com",  # Turkish dotless ı
        "ADMİN@example.com",  # Turkish dotted capital İ (casefolds to i + U+0307)
        "  admin@example.com\u3000",  # NFKC turns the ideographic space into a space
    ],
)
def test_look_alike_emails_fold_to_one(variant):
    assert fold_email(variant) == "admin@example.com"


def test_compatibility_letters_and_case_folding_fold_to_one():
    assert fold_email("\u212aIM@example.com") == "kim@example.com"  # Kelvin sign
    assert fold_email("ﬁnance@example.com") == "finance@example.com"  # ligature
    assert fold_email("STRASSE@example.com") == fold_email("straße@example.com")  # casefold


@given(st.text(max_size=40))
@example("ａｄｍｉｎ")
@example("ǰ")  # casefolds to j + U+030C: normalised again after folding
def test_a_folded_email_is_normalised_and_folds_to_itself(text):
    folded = fold_email(text)
    assert unicodedata.is_normalized("NFKC", folded)
    assert folded == folded.strip()
    assert fold_email(folded) == folded


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abc123xyz", "Use 10 to 200 characters."),
        ("x" * 201, "Use 10 to 200 characters."),
        (" " * 12, "A password cannot be only spaces."),
        ("\t\n" * 6, "A password cannot be only spaces."),
        ("password123", "This password is too common: choose one that is harder to guess."),
        ("PassWord123", "This password is too common: choose one that is harder to guess."),
        ("QWERTYUIOP", "This password is too common: choose one that is harder to guess."),
        ("1234567890", "This password is too common: choose one that is harder to guess."),
        (
            "ｐａｓｓｗｏｒｄ１２３",
            "This password is too common: choose one that is harder to guess.",
        ),
        (" iloveyou12 ", "This password is too common: choose one that is harder to guess."),
    ],
)
def test_the_password_policy_refuses_short_blank_and_common_passwords(password, message):
    from domain.passwords import password_problem

    assert password_problem(password) == message


def test_the_demo_test_and_bench_passwords_follow_the_policy():
    from bench.common import PASSWORD as BENCH
    from domain.passwords import password_problem
    from server.demo import PASSWORD as DEMO
    from tests.support.factories import PASSWORD as TESTS

    for password in (DEMO, TESTS, BENCH, "correct horse battery staple", "Sài Gòn 2026 mưa"):
        assert password_problem(password) is None, password
