"""Text keys for search and sorting that work for any script.

Vietnamese users type "nguyen" for "Nguyễn"; Russian users expect "ё" to match
"е"; Arabic and Persian text carries optional diacritics (harakat). Folding
case and stripping combining marks gives one comparable key per string, stored
in a column so that SQLite and PostgreSQL search and sort identically.
"""

from __future__ import annotations

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


def search_key(*parts: str | None) -> str:
    """One folded string holding every searchable part, separated by a bar."""
    return "|".join(fold(part) for part in parts if part)
