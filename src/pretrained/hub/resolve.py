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
import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)
_SHORT_SHA = re.compile(r"^[0-9a-f]{4,39}$")


class ModelNotFoundError(FileNotFoundError):
    """A model name or file that could not be found; the message says where we looked."""


def hub_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The Hugging Face hub cache folder, found as transformers 4.57 finds it.

    ``cache_dir`` when given; else the first set of ``TRANSFORMERS_CACHE``, ``PYTORCH_TRANSFORMERS_CACHE``,
    ``PYTORCH_PRETRAINED_BERT_CACHE`` (transformers' deprecated overrides), ``HF_HUB_CACHE``,
    ``HUGGINGFACE_HUB_CACHE`` (huggingface_hub's legacy name); else ``$HF_HOME/hub`` with ``HF_HOME`` defaulting to
    ``$XDG_CACHE_HOME/huggingface`` or ``~/.cache/huggingface``. ``~`` and ``$VARS`` in the values are expanded.

    >>> hub_cache_dir("/tmp/my-cache")
    PosixPath('/tmp/my-cache')
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    for var in _CACHE_VARS:
        if os.environ.get(var):
            return _expand(os.environ[var])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    return _expand(home) / "hub"


# transformers' overrides first, then huggingface_hub's names (new, then legacy)
_CACHE_VARS = (
    "TRANSFORMERS_CACHE",
    "PYTORCH_TRANSFORMERS_CACHE",
    "PYTORCH_PRETRAINED_BERT_CACHE",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
)


def _expand(path: str) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(path)))


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
    """(snapshot folder or None, repo folder) for a repo id and revision (a branch or tag under ``refs/``, a full
    commit hash, or an unambiguous prefix of one, at least 4 hex digits).

    Raises :class:`ModelNotFoundError` when a ref points to a snapshot that is not in the cache, or a short hash
    matches several snapshots.
    """
    repo = hub_cache_dir(cache_dir) / repo_folder_name(repo_id)
    revision = revision or "main"
    ref = repo / "refs" / revision
    if ref.is_file():
        commit = ref.read_text().strip()
        snap = repo / "snapshots" / commit
        if not snap.is_dir():
            raise ModelNotFoundError(
                f"{ref} points to commit {commit!r} but {snap} is missing: the cache of {repo_id!r} is incomplete. "
                f"Download the model again, or pass revision= one of the cached snapshots: {_cached_revisions(repo)}"
            )
        return snap, repo
    snap = repo / "snapshots" / revision
    if snap.is_dir():
        return snap, repo
    if _SHORT_SHA.match(revision) and (repo / "snapshots").is_dir():
        hits = sorted(p for p in (repo / "snapshots").iterdir() if p.name.startswith(revision) and p.is_dir())
        if len(hits) > 1:
            raise ModelNotFoundError(
                f"revision {revision!r} of {repo_id!r} is ambiguous: it starts {len(hits)} cached snapshots "
                f"({', '.join(p.name for p in hits)}); pass more digits of the commit hash"
            )
        if hits:
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
        if repo.is_dir():
            wanted = f"at revision {revision!r}" if revision else "at revision 'main' (no refs/main)"
            raise ModelNotFoundError(
                f"{name!r} is in the cache ({repo}) but not {wanted}; cached revisions: "
                f"{_cached_revisions(repo)}. Pass revision= one of them, or download that revision first."
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

    For ``config.json``, ``name_or_path`` may also be the path of the config file itself, as transformers allows.

    >>> resolve_file("/tmp", "surely-missing.json", required=False) is None
    True
    """
    given = Path(name_or_path).expanduser()
    if filename in _FILE_ITSELF and not subfolder and given.is_file() and _may_be_config(given):
        return given  # transformers reads a config from the path of the file itself, too
    folder = resolve_dir(name_or_path, revision=revision, cache_dir=cache_dir)
    path = folder / subfolder / filename if subfolder else folder / filename
    if path.is_file():
        return path
    if path.is_symlink():  # a cache snapshot's link to a blob that is gone
        msg = (
            f"{path} is a link to {os.readlink(path)}, which is missing (model {str(name_or_path)!r}): the cache "
            "is incomplete. Download the model again, or delete the link if the file is not needed."
        )
        if required:
            raise ModelNotFoundError(msg)
        log.warning("%s Going on without it.", msg)
    if not required:
        return None
    if _known_missing(folder, Path(subfolder) / filename):
        raise ModelNotFoundError(
            f"{filename} not found for model {str(name_or_path)!r}: the cache records that the repo has no such "
            f"file at this revision ({folder.parent.parent / '.no_exist' / folder.name / subfolder / filename})"
        )
    present = sorted(p.name for p in path.parent.iterdir()) if path.parent.is_dir() else []
    raise ModelNotFoundError(
        f"{filename} not found in {path.parent} (model {str(name_or_path)!r}); the folder holds: "
        f"{', '.join(present[:20]) or 'nothing'}"
    )


# files that may be named directly instead of their folder (transformers' get_config_dict accepts a file path)
_FILE_ITSELF = frozenset({"config.json"})


# JSON files of a checkpoint folder that are not its model config: naming one stays a "this is a file" error
_OTHER_JSON = frozenset(
    {
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "generation_config.json",
        "preprocessor_config.json",
        "vocab.json",
        "model.safetensors.index.json",
        "pytorch_model.bin.index.json",
    }
)


def _may_be_config(path: Path) -> bool:
    return path.suffix == ".json" and path.name not in _OTHER_JSON


def _known_missing(snapshot: Path, relative: Path) -> bool:
    """Whether the cache holds a ``.no_exist`` marker for ``relative`` at ``snapshot``'s commit."""
    if snapshot.parent.name != "snapshots":
        return False
    return (snapshot.parent.parent / ".no_exist" / snapshot.name / relative).exists()


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
