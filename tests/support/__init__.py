"""What the tests share and are not tests themselves: data, servers, phones, paths."""

from __future__ import annotations

from pathlib import Path

#: The repository's root folder.
ROOT = Path(__file__).resolve().parents[2]
