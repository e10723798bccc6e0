"""Error message catalogues: every language covers every code and message; the rest is English."""

from __future__ import annotations

import json

import pytest

from server import i18n
from server.errors import CODES


def test_untranslated_message_stays_in_english():
    assert i18n.translate("ru", "some_new_code", "A new error.") == "A new error."
    assert i18n.translate_fields("fa", {"x": ["Something new."]}) == {"x": ["Something new."]}


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_catalog_covers_every_generic_code_and_the_same_messages(language):
    catalog = json.loads((i18n.LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    english = json.loads((i18n.LOCALES / "vi.json").read_text(encoding="utf-8"))
    assert set(CODES.values()) <= set(catalog["codes"])
    assert set(catalog["codes"]) == set(english["codes"])
    assert set(catalog["messages"]) == set(english["messages"])
    assert all(text.strip() for text in [*catalog["codes"].values(), *catalog["messages"].values()])
