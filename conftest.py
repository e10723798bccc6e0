"""Loaded by pytest before tests/conftest.py imports anything of the project.

With PYTHONDONTWRITEBYTECODE set (as on this project's CI machine) neither Python nor
pytest caches compiled modules, so every run compiled every module again and rewrote the
asserts of every test module: about 7 s of the inner loop's 60 s budget, and again in
every server a test starts. They are cached under .pytest_cache/pycache instead (for the
servers and tools the tests start too), which keeps the source tree as clean as the
variable asks.
"""

import os
import sys
from pathlib import Path

if sys.dont_write_bytecode:
    sys.dont_write_bytecode = False
    sys.pycache_prefix = str(Path(__file__).parent / ".pytest_cache" / "pycache")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = sys.pycache_prefix
