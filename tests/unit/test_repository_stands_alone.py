"""A clone of the repository is all a user has: nothing may read project data from elsewhere.

System tools and temporary folders aside (`/usr/bin/chromium`, `/proc`, `/tmp`…),
code, scripts and docs name only paths inside the repository, and every
relative link in the docs resolves inside it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT

#: Absolute folders a program may name: the operating system's, never the project's.
SYSTEM = ("/usr/", "/etc/", "/proc/", "/sys/", "/dev/", "/tmp/", "/var/", "/bin/", "/run/")
#: A quoted absolute path in code: "/something/…" used as a file (not a URL path like "/api/v1").
QUOTED_PATH = re.compile(
    r"""(?:Path|open|read_text|copyfile|DATA_DIR\s*=)\s*\(?\s*[rf]?["'](/[^"'\s]*)"""
)
#: Words that only ever point at the development machine's folders outside the clone.
OUTSIDE = re.compile(r"\.\./shared\b|/work/|\bshared/(?:design|data)/")
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)")
TEXT_SUFFIXES = {".py", ".sh", ".md", ".toml", ".yaml", ".yml", ".js", ".json", ".ini", ".cfg", ""}


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    paths = [ROOT / name for name in listed.stdout.splitlines()]
    return [
        p for p in paths if p.suffix in TEXT_SUFFIXES and p.is_file() and p.stat().st_size < 2**20
    ]


def test_no_file_points_at_folders_outside_the_repository():
    offenders = []
    for path in tracked_files():
        if path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
            for found in QUOTED_PATH.findall(line):
                if not found.startswith(SYSTEM):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {found}")
    assert offenders == []


def test_every_relative_link_in_the_docs_stays_inside_the_repository():
    escaping = []
    for path in tracked_files():
        if path.suffix != ".md":
            continue
        for target in MARKDOWN_LINK.findall(path.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (path.parent / target).resolve()
            if (ROOT not in resolved.parents and resolved != ROOT) or not resolved.exists():
                escaping.append(f"{path.relative_to(ROOT)}: {target}")
    assert escaping == []


def test_the_benchmark_data_is_in_the_repository():
    from bench.solomon_data import DATA_DIR, load_best_known, load_instances

    assert ROOT in DATA_DIR.resolve().parents
    assert len(load_instances()) == 56 and len(load_best_known()) == 56
