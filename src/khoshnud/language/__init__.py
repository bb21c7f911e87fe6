"""Offline language intelligence: language, need and sentiment of every inbound message.

``from khoshnud.language import analyse, analyse_batch`` — loaded lazily, so that importing
the Django app does not import scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from khoshnud.language.pipeline import Analysis, analyse, analyse_batch

__all__ = ["Analysis", "analyse", "analyse_batch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from khoshnud.language import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
