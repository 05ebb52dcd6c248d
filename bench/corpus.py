"""A deterministic ~10 MB English corpus for tokenizer benchmarks, built offline from installed documentation.

Sources, in order until the size is reached: Python's pydoc topics, docstrings of the standard library, then
docstrings of the installed reference library (pinned, so the text is the same on every machine).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.common import CACHE


def _docstrings(root: Path) -> Iterator[str]:
    for path in sorted(root.rglob("*.py")):
        if "test" in path.parts or "tests" in path.parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 40:
                    yield doc


def _sources() -> Iterator[str]:
    import pydoc_data.topics

    yield from pydoc_data.topics.topics.values()
    yield from _docstrings(
        Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    )
    import transformers

    yield from _docstrings(Path(transformers.__file__).parent)


def corpus_lines(size_mb: float = 10.0) -> list[str]:
    """Non-empty lines of the corpus, about ``size_mb`` MB in all (cached under .bench/)."""
    path = CACHE / f"corpus-{size_mb:g}mb.txt"
    if not path.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        limit, total, out = int(size_mb * 2**20), 0, []
        for text in _sources():
            for line in text.splitlines():
                line = line.strip()
                if line:
                    out.append(line)
                    total += len(line.encode()) + 1
            if total >= limit:
                break
        path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path.read_text(encoding="utf-8").splitlines()
