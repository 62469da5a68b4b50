"""Building wrong answers from a template of the right one (shared by the
assignment specs; not a spec itself)."""

from __future__ import annotations


def fill(template: str, good: dict[str, str],
         replace: dict[str, str] | None = None, **pieces: str) -> str:
    """``template`` with its upper-case holes filled (``good``, overridden
    by ``pieces``), after the literal replacements ``replace``."""
    source = template
    for old, new in (replace or {}).items():
        assert old in source, old
        source = source.replace(old, new)
    for hole in pieces:
        assert hole in source, hole
    for hole, piece in {**good, **pieces}.items():
        source = source.replace(hole, piece)
    return source
