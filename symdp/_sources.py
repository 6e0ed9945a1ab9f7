"""Hashes of the package's own source files: what a stored result or an execution was made with.

Two caches are keyed by them, with different scopes: the sweeps' result store by the modules a
sweep task runs (:data:`symdp.runs.experiments.COMPUTING_MODULES`), and the book's executions by
every module a chapter can import (:func:`symdp.book.build.cache_key`). Both hash the same way,
here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

PACKAGE = Path(__file__).resolve().parent  # the ``symdp`` folder


def source_hash(files: Iterable[str]) -> str:
    """SHA-256 (hex) of the named files of the package, path and bytes, in sorted order.

    ``files`` are paths relative to the package folder (``"solver.py"``, ``"runs/sweep.py"``);
    a file that does not exist raises, so a renamed module cannot silently leave a hash.
    """
    h = hashlib.sha256()
    for rel in sorted(set(files)):
        h.update(rel.encode() + b"\0" + (PACKAGE / rel).read_bytes() + b"\0")
    return h.hexdigest()


def package_files() -> list[str]:
    """Every ``.py`` file of the package, relative to its folder, as :func:`source_hash` names them."""
    return sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))
