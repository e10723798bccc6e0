"""Search keys: Arabic and Persian keyboards and digits find the same text."""

from __future__ import annotations


def test_arabic_and_persian_keyboards_and_digits_find_the_same_text():
    from domain.text import fold

    assert fold("كيك") == fold("کیک")  # Arabic kaf/yeh vs Persian keheh/yeh
    assert fold("شعبه ۲") == fold("شعبه 2") == fold("شعبه ٢")
    assert fold("Đường Lê Lợi") == "duong le loi"
