"""Text keys for search and sorting that work for any script.

Vietnamese users type "nguyen" for "Nguyễn"; Russian users expect "ё" to match
"е"; Arabic and Persian text carries optional diacritics (harakat). Folding
case and stripping combining marks gives one comparable key per string, stored
in a column so that SQLite and PostgreSQL search and sort identically.
"""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD does not decompose but that users type without marks; the Arabic
# and Persian keyboards' yeh and kaf; the tatweel; Arabic-Indic digits.
_EXTRA_FOLDS = str.maketrans(
    {
        "đ": "d",
        "ð": "d",
        "ø": "o",
        "ł": "l",
        "ı": "i",
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        "ـ": "",
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)


def fold(text: str | None) -> str:
    """Casefolded text without diacritics, with white space collapsed."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.translate(_EXTRA_FOLDS).split())


#: After case folding: the Turkish dotless ı, and the i and combining dot that a
#: capital İ folds to, both read as i (NFKC and `casefold` keep them apart).
_DOTTED_I = re.compile("i\u0307|ı")


def fold_email(email: str) -> str:
    """The one form of an email that is stored, compared for uniqueness and signed in with.

    Compatibility forms are normalised (NFKC: fullwidth ａｄｍｉｎ, the Kelvin sign K,
    ligatures such as ﬁ), then case folded (`str.casefold`: ß is ss), the Turkish
    dotless and dotted i read as i, normalised again (a fold can leave a decomposed
    letter) and stripped of white space, NFKC's ideographic space included. Folding a
    folded email changes nothing.
    """
    folded = unicodedata.normalize("NFKC", email).casefold()
    folded = _DOTTED_I.sub("i", folded)
    return unicodedata.normalize("NFKC", folded).strip()


def search_key(*parts: str | None) -> str:
    """One folded string holding every searchable part, separated by a bar."""
    return "|".join(fold(part) for part in parts if part)
