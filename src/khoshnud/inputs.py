"""The rules every input obeys, whatever door it comes through (API, CSV import, web UI, CLI).

SQLite forgives what PostgreSQL refuses (NUL bytes, times outside the years 1–9999 once shifted
to UTC, integers past 64 bits), and Python refuses what neither stores (year 10000). Each rule
below turns such a value into an ``InputError`` naming the field, so a caller can reject one
event of a batch, one CSV line or one form field with a readable reason instead of failing the
whole request at insert time — or, worse, storing a row that cannot be read back.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from annotated_types import Interval

from khoshnud.calendars import latin_digits

# Times that both databases store and every zone (−14:00 … +14:00) reads back as a valid
# Python datetime. Business events outside this range are typing mistakes.
TIME_MIN = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
TIME_MAX = dt.datetime(2999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2999, 12, 31)
# A signed 64-bit column (bigint, SQLite INTEGER).
BIGINT_MAX = 2**63 - 1
# A row id in a path or body: refused (422) before it reaches a 64-bit column.
RowId = Annotated[int, Interval(ge=1, le=BIGINT_MAX)]
# Pages of lists and timelines: far past any real list, far below an offset that overflows.
PAGE_MAX = 1_000_000
Page = Annotated[int, Interval(ge=1, le=PAGE_MAX)]
# How deep a JSON body or a stored JSON value (metadata, attributes) may nest.
JSON_MAX_DEPTH = 32


class InputError(ValueError):
    """A value that cannot be accepted; ``field`` names it for the error message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def storable_text(text: str) -> str:
    """Text both databases accept: a lone surrogate (a JSON "\\udcff" escape, or bytes decoded
    with surrogateescape) becomes U+FFFD, as a decoder with errors="replace" would make it;
    NUL characters (which PostgreSQL's text type refuses) are removed."""
    try:
        text.encode()
    except UnicodeEncodeError:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text.replace("\x00", "") if "\x00" in text else text


def is_storable_key(text: str) -> bool:
    """True when ``text`` can be stored and compared as is (no NUL, no lone surrogate)."""
    if "\x00" in text:
        return False
    if text.isascii():  # the common case, without encoding a copy
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def clean_str(
    value: object,
    *,
    field: str,
    max_length: int,
    required: bool = True,
    strip: bool = True,
    allow_int: bool = False,
) -> str:
    """A string of at most ``max_length`` characters with no NUL and no lone surrogate.

    Keys and names are refused rather than repaired: a silently changed key would match the
    wrong row. Returns "" for a missing optional value.
    """
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or value == "":
        if required:
            raise InputError(field, "is required (a non-empty string)")
        return ""
    if not isinstance(value, str):
        raise InputError(field, f"must be a string, not {_json_type(value)}")
    if strip:
        value = value.strip()
    if required and not value:
        raise InputError(field, "is required (a non-empty string)")
    if len(value) > max_length:
        raise InputError(field, f"is longer than {max_length} characters")
    if not is_storable_key(value):
        raise InputError(field, "holds a NUL character or invalid Unicode")
    return value


def clean_int(value: object, *, field: str, minimum: int = 1, maximum: int = BIGINT_MAX) -> int:
    """A whole number in [minimum, maximum] (JSON integer, or digits in any script)."""
    if isinstance(value, bool):
        raise InputError(field, "must be a whole number")
    if isinstance(value, str):
        text = latin_digits(value.strip())
        if not text.lstrip("-").isdigit() or len(text) > 20:
            raise InputError(field, f"{value[:40]!r} is not a whole number")
        value = int(text)
    if not isinstance(value, int):
        raise InputError(field, f"must be a whole number, not {_json_type(value)}")
    if value < minimum or value > maximum:
        raise InputError(field, f"must be between {minimum} and {maximum}")
    return value


def clean_choice(
    value: object, *, field: str, allowed: Collection[str], default: str | None = None
) -> str:
    """One of ``allowed`` (a string); ``default`` when missing, required when it is None."""
    if value is None:
        value = default
    if value is None:
        raise InputError(field, f"is required; use one of {sorted(a for a in allowed if a)}")
    if not isinstance(value, str):
        raise InputError(field, f"must be a string, not {_json_type(value)}")
    if value not in allowed:
        shown = value[:40] if is_storable_key(value) else storable_text(value)[:40]
        raise InputError(
            field, f"unknown {field} {shown!r}; use one of {sorted(a for a in allowed if a)}"
        )
    return value


def clean_json(value: object, *, field: str, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """A JSON value both databases store and give back unchanged (metadata, attributes).

    Refuses NUL and lone surrogates in keys and strings (PostgreSQL's jsonb and the UTF-8
    codec refuse them), NaN and Infinity (not JSON), and nesting deeper than ``max_depth``.
    """
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not is_storable_key(item):
                raise InputError(field, "holds a NUL character or invalid Unicode")
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise InputError(field, "holds NaN or Infinity, which JSON does not have")
        elif isinstance(item, dict):
            if depth >= max_depth:
                raise InputError(field, f"nests deeper than {max_depth} levels")
            for key, child in item.items():
                if not isinstance(key, str) or not is_storable_key(key):
                    raise InputError(field, "has a key with a NUL character or invalid Unicode")
                stack.append((child, depth + 1))
        elif isinstance(item, list | tuple):
            if depth >= max_depth:
                raise InputError(field, f"nests deeper than {max_depth} levels")
            stack.extend((child, depth + 1) for child in item)
        elif item is not None and not isinstance(item, bool | int):
            raise InputError(field, f"holds a {type(item).__name__}, which is not JSON")
    return value


_to_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
# A NUL inside a JSON string as the encoder writes it: "\u0000" after an even run of backslashes.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def clean_json_text(value: object, *, field: str) -> str:
    """``value`` as the JSON text to store, by the rules of ``clean_json``.

    The fast path for ingestion: one encoding, then text searches; the tree is walked only
    when the text holds more brackets than the depth allows.
    """
    try:
        text = _to_json(value)
    except ValueError:  # NaN or Infinity
        raise InputError(field, "holds NaN or Infinity, which JSON does not have") from None
    except (TypeError, RecursionError):
        return clean_json(value, field=field) and _to_json(value)
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise InputError(field, "holds a NUL character or invalid Unicode")
    if text.count("{") + text.count("[") > JSON_MAX_DEPTH:
        clean_json(value, field=field)
    if not is_storable_key(text):
        raise InputError(field, "holds a NUL character or invalid Unicode")
    return text


def _refuse_constant(name: str) -> Any:
    raise InputError("", f"{name} is not JSON (send a number or a string)")


def read_json(body: bytes | str) -> Any:
    """Parse a request body: UTF-8 JSON without NaN/Infinity; a body nested deeper than the
    parser's stack allows (about 1,000 levels) is refused rather than crashing the request.
    Stored values are then held to JSON_MAX_DEPTH by ``clean_json``.

    Raises InputError with a readable reason.
    """
    if not body:
        raise InputError("", "the body is empty; send a JSON object")
    try:
        text = body.decode() if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise InputError("", "malformed JSON: the body is not UTF-8") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise InputError("", "the body nests too deep") from None
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError("", f"malformed JSON: {exc}") from None


def clean_aware_datetime(value: object, *, field: str) -> dt.datetime:
    """An ISO 8601 date-time with a zone, between 1900-01-01 and 2999-12-31 (UTC).

    A datetime already parsed (by the API's schema) is checked the same way.
    """
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "is required (ISO 8601 with a time zone, e.g. +03:30 or Z)")
    text = value.strip()
    if not text.isascii():
        text = latin_digits(text)
    if "\x00" in text:
        raise InputError(field, "holds a NUL character")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{value[:40]!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(field, f"{value[:40]!r} has no time zone (add +03:30, +08:00 or Z)")
    try:
        in_utc = moment.astimezone(dt.UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not TIME_MIN <= in_utc <= TIME_MAX:
        raise InputError(field, "must be between 1900-01-01 and 2999-12-31")
    return moment


def clean_date(value: object, *, field: str) -> dt.date:
    """An ISO date (YYYY-MM-DD, digits in any script) between 1900-01-01 and 2999-12-31."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    else:
        if not isinstance(value, str) or not value.strip():
            raise InputError(field, "is required (YYYY-MM-DD)")
        try:
            day = dt.date.fromisoformat(latin_digits(value.strip()))
        except ValueError:
            raise InputError(field, f"{value[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise InputError(field, "must be between 1900-01-01 and 2999-12-31")
    return day


def clean_money(
    value: object, *, field: str, max_digits: int = 14, decimal_places: int = 2
) -> Decimal:
    """A non-negative amount that fits a DecimalField(max_digits, decimal_places).

    Accepts a JSON number or a string with digits in any script and thousands separators;
    refuses NaN, Infinity, exponents that overflow the column and more decimals than it keeps.
    """
    if isinstance(value, bool) or value is None:
        raise InputError(field, "must be an amount")
    if isinstance(value, float):
        value = repr(value)
    text = latin_digits(str(value)).strip().replace(",", "").replace("٬", "").replace("٫", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InputError(field, f"{str(value)[:40]!r} is not an amount") from None
    if not amount.is_finite():
        raise InputError(field, f"{str(value)[:40]!r} is not an amount")
    if amount < 0:
        raise InputError(field, "must be zero or more")
    if amount != amount.quantize(Decimal(1).scaleb(-decimal_places)):
        raise InputError(field, f"has more than {decimal_places} decimal places")
    if amount >= Decimal(10) ** (max_digits - decimal_places):
        raise InputError(field, f"must be less than 10^{max_digits - decimal_places}")
    return amount.quantize(Decimal(1).scaleb(-decimal_places))


def clean_page(value: object) -> int:
    """A page number from a URL: 1 when missing or unreadable, at most PAGE_MAX."""
    try:
        return clean_int(value, field="page", maximum=PAGE_MAX)
    except InputError:
        return 1 if value in (None, "") else PAGE_MAX if _is_big(value) else 1


def _is_big(value: object) -> bool:
    text = latin_digits(str(value)).strip()
    return text.isdigit() and int(text) > PAGE_MAX


def clean_query_text(value: str | None, *, max_length: int = 200) -> str:
    """A search or filter string from a URL: NULs removed, cut to ``max_length``."""
    if not value:
        return ""
    return storable_text(value)[:max_length]


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__
