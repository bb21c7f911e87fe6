"""Folding text for search, so that a name or phone typed in any script or digit system matches."""

from __future__ import annotations

from khoshnud.calendars import latin_digits

_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "\u200c": " ", "ـ": None})


def fold(text: str) -> str:
    """Lower-case, Latin digits, Persian letters for Arabic look-alikes, no ZWNJ or tatweel."""
    return " ".join(latin_digits(text).translate(_FOLD).lower().split())
