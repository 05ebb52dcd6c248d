"""``pretrained models``: the models in the local Hugging Face cache, with their revisions and sizes.

>>> for model in cached_models():  # doctest: +SKIP
...     print(model["repo_id"], model["refs"], model["snapshots"])
sentence-transformers/all-MiniLM-L6-v2 {'main': 'c9745ed1...'} ['c9745ed1...']
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, TextIO


def cached_models(cache_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One dict per cached model: ``repo_id``, ``refs`` (branch or tag -> commit), ``snapshots`` (commits
    present), ``size_bytes`` (its blobs on disk) and ``path``."""
    from ..hub.resolve import cached_repo_ids, hub_cache_dir, repo_folder_name

    root = hub_cache_dir(cache_dir)
    return [_repo_info(root / repo_folder_name(repo), repo) for repo in cached_repo_ids(cache_dir)]


def _repo_info(folder: Path, repo_id: str) -> dict[str, Any]:
    refs_dir, snaps_dir, blobs = folder / "refs", folder / "snapshots", folder / "blobs"
    refs = {}
    if refs_dir.is_dir():
        for ref in sorted(p for p in refs_dir.rglob("*") if p.is_file()):
            refs[ref.relative_to(refs_dir).as_posix()] = ref.read_text().strip()
    snaps = sorted(p.name for p in snaps_dir.iterdir() if p.is_dir()) if snaps_dir.is_dir() else []
    size = sum(p.stat().st_size for p in blobs.iterdir() if p.is_file()) if blobs.is_dir() else 0
    return {"repo_id": repo_id, "refs": refs, "snapshots": snaps, "size_bytes": size, "path": str(folder)}


def command_models(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Print the cached models: a table, or one JSON object per line with ``--json``."""
    from ..hub.resolve import hub_cache_dir

    root = hub_cache_dir(args.cache_dir)
    rows = cached_models(args.cache_dir)
    if not rows:
        stderr.write(f"no models in the cache ({root})\n")
        return 0
    if args.json:
        for row in rows:
            stdout.write(json.dumps(row) + "\n")
        return 0
    width = max(len(r["repo_id"]) for r in rows)
    stdout.write(f"{'MODEL':<{width}}  {'SIZE':>9}  REVISIONS\n")
    for r in rows:
        names: dict[str, list[str]] = {}
        for name, sha in r["refs"].items():
            names.setdefault(sha, []).append(name)
        revs = [f"{sha[:8]} ({', '.join(names[sha])})" if sha in names else sha[:8] for sha in r["snapshots"]]
        stdout.write(f"{r['repo_id']:<{width}}  {human_size(r['size_bytes']):>9}  {', '.join(revs) or '-'}\n")
    stdout.write(f"({len(rows)} models in {root})\n")
    return 0


def human_size(n: float) -> str:
    """``1234567`` -> ``'1.2 MB'``.

    >>> human_size(512), human_size(1234567)
    ('512 B', '1.2 MB')
    """
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"
