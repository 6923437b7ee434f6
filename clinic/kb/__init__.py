"""The knowledge base of muscles, trigger points and referral patterns (core: any feature may use it).

Loaded from the YAML in knowledge/ when the app is created; `knowledge_base()` is the app's copy."""

from functools import lru_cache
from pathlib import Path

from flask import current_app

from clinic.kb.base import KnowledgeBase, MusclePoint
from clinic.kb.loader import KnowledgeBaseError, load_knowledge_base

__all__ = ["KnowledgeBase", "KnowledgeBaseError", "MusclePoint", "knowledge_base", "load_for_app"]


def knowledge_base() -> KnowledgeBase:
    return current_app.extensions["knowledge_base"]


@lru_cache(maxsize=4)
def _cached_load(directory: Path, _stamp: tuple) -> KnowledgeBase:
    return load_knowledge_base(directory)


def load_for_app(directory: Path) -> KnowledgeBase:
    """Parse once per process; a change to any file (its mtime) makes a fresh load."""
    files = sorted(directory.rglob("*.yaml"))
    stamp = tuple((str(path), path.stat().st_mtime_ns) for path in files)
    return _cached_load(directory, stamp)
