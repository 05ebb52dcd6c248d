"""Resolving model names to files (offline-first). A hub client plugs in behind the same functions later."""

from .resolve import (
    ModelNotFoundError,
    cached_repo_ids,
    hub_cache_dir,
    resolve_dir,
    resolve_file,
    suggest_names,
)

__all__ = [
    "ModelNotFoundError",
    "cached_repo_ids",
    "hub_cache_dir",
    "resolve_dir",
    "resolve_file",
    "suggest_names",
]
