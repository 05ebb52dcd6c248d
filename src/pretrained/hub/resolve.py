"""Resolve a model name to files: a local folder, or a repo id in the Hugging Face cache layout.

The cache layout (``$HF_HUB_CACHE`` or ``$HF_HOME/hub`` or ``~/.cache/huggingface/hub``)::

    models--org--name/refs/main                 -> a commit hash
    models--org--name/snapshots/<hash>/config.json

>>> from pretrained.hub import resolve_file
>>> resolve_file("no-such/model", "config.json")  # doctest: +SKIP
Traceback (most recent call last):
FileNotFoundError: ...
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

_SHA = re.compile(r"^[0-9a-f]{40}$")


class ModelNotFoundError(FileNotFoundError):
    """A model name or file that could not be found; the message says where we looked."""


def hub_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The Hugging Face hub cache folder, honouring ``HF_HUB_CACHE`` and ``HF_HOME``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def repo_folder_name(repo_id: str, repo_type: str = "model") -> str:
    return f"{repo_type}s--" + repo_id.replace("/", "--")


def cached_repo_ids(cache_dir: str | os.PathLike | None = None) -> list[str]:
    """Repo ids of the models present in the local cache."""
    root = hub_cache_dir(cache_dir)
    if not root.is_dir():
        return []
    return sorted(p.name[len("models--") :].replace("--", "/") for p in root.glob("models--*") if p.is_dir())


def _snapshot(
    repo_id: str, revision: str | None, cache_dir: str | os.PathLike | None
) -> tuple[Path | None, Path]:
    """(snapshot folder or None, repo folder) for a repo id and revision."""
    repo = hub_cache_dir(cache_dir) / repo_folder_name(repo_id)
    revision = revision or "main"
    ref = repo / "refs" / revision
    if ref.is_file():
        revision = ref.read_text().strip()
    snap = repo / "snapshots" / revision
    if snap.is_dir():
        return snap, repo
    if not _SHA.match(revision) and (repo / "snapshots").is_dir():
        # a short hash: accept a unique prefix match
        hits = [p for p in (repo / "snapshots").iterdir() if p.name.startswith(revision)]
        if len(hits) == 1:
            return hits[0], repo
    return None, repo


def resolve_dir(
    name_or_path: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """The folder that holds a model's files: ``name_or_path`` itself, or its cached snapshot.

    Raises :class:`ModelNotFoundError` listing the places searched and near names that exist.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    name = str(name_or_path)
    if path.is_file():
        raise ModelNotFoundError(f"{name} is a file; pass the folder that holds config.json and the weights")
    searched = [str(path.resolve())]
    if _looks_like_repo_id(name):
        snap, repo = _snapshot(name, revision, cache_dir)
        if snap is not None:
            return snap
        searched.append(str(repo) + (f" (revision {revision!r})" if revision else ""))
        if repo.is_dir() and revision:
            raise ModelNotFoundError(
                f"{name!r} is in the cache ({repo}) but not at revision {revision!r}; "
                f"cached revisions: {_cached_revisions(repo)}"
            )
    raise ModelNotFoundError(_not_found_message(name, searched, cache_dir))


def resolve_file(
    name_or_path: str | os.PathLike,
    filename: str,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    subfolder: str = "",
    required: bool = True,
) -> Path | None:
    """The path of ``filename`` inside a model's folder; ``None`` when absent and ``required=False``.

    >>> resolve_file("/tmp", "surely-missing.json", required=False) is None
    True
    """
    folder = resolve_dir(name_or_path, revision=revision, cache_dir=cache_dir)
    path = folder / subfolder / filename if subfolder else folder / filename
    if path.is_file():
        return path
    if not required:
        return None
    present = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
    raise ModelNotFoundError(
        f"{filename} not found in {path.parent} (model {str(name_or_path)!r}); the folder holds: "
        f"{', '.join(present[:20]) or 'nothing'}"
    )


def _looks_like_repo_id(name: str) -> bool:
    return bool(re.fullmatch(r"[\w.\-]+(/[\w.\-]+)?", name)) and ".." not in name


def _cached_revisions(repo: Path) -> list[str]:
    refs = [p.name for p in (repo / "refs").glob("*")] if (repo / "refs").is_dir() else []
    snaps = [p.name[:12] for p in (repo / "snapshots").glob("*")] if (repo / "snapshots").is_dir() else []
    return refs + snaps


def _not_found_message(name: str, searched: list[str], cache_dir: str | os.PathLike | None) -> str:
    msg = f"model {name!r} not found. Looked in: " + "; ".join(searched) + "."
    near = suggest_names(name, cache_dir)
    if near:
        msg += " Did you mean " + " or ".join(repr(n) for n in near) + "?"
    msg += (
        " Pass a local folder holding config.json and the weights, or download the model into the Hugging Face "
        "cache first (this library works offline)."
    )
    return msg


def suggest_names(name: str, cache_dir: str | os.PathLike | None = None) -> list[str]:
    """Cached repo ids and local folders whose name is close to ``name``."""
    candidates = cached_repo_ids(cache_dir)
    parent = Path(name).expanduser().parent
    if parent.is_dir():
        candidates += [
            str(parent / p.name) if str(parent) != "." else p.name for p in parent.iterdir() if p.is_dir()
        ]
    by_short = {c.rsplit("/", 1)[-1]: c for c in candidates}
    hits = difflib.get_close_matches(name, candidates, n=3, cutoff=0.8)
    hits += [
        by_short[s]
        for s in difflib.get_close_matches(name.rsplit("/", 1)[-1], list(by_short), n=3, cutoff=0.8)
    ]
    return list(dict.fromkeys(hits))[:3]
