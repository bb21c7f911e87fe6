"""Message templates: ``{{ field }}`` placeholders and nothing else.

A sandbox by construction: the renderer substitutes known field names with strings; there
are no tags, filters, attribute look-ups or expressions, so a template can run no code. The
HTML part escapes every value (and the template's own text). ``template_check`` reports an
unknown field, an unclosed ``{{`` or a ``{%`` tag when a rule is saved, not when it fires.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

FIELDS = (
    "first_name",
    "last_name",
    "occasion",  # the occasion's name in the customer's language
    "occasion_date",  # its date in the customer's own calendar
    "offer_code",
    "products",  # recommended products, by name
    "event",  # an event rule's event name
)
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
LOCALES = ("fa", "zh-hans", "en")
PARTS = ("subject", "body")
MAX_SUBJECT = 200
MAX_BODY = 4000


class TemplateError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def placeholders(text: str) -> list[str]:
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]


def template_check(text: str, *, where: str) -> None:
    """Raise ``TemplateError`` naming the first unknown field or broken placeholder."""
    for name in placeholders(text):
        if name not in FIELDS:
            raise TemplateError(
                where, f"unknown field {{{{ {name} }}}}; the fields are {', '.join(FIELDS)}"
            )
    rest = _PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        raise TemplateError(where, "an unclosed {{ … }} placeholder")
    if "{%" in rest or "%}" in rest:
        raise TemplateError(where, "tags ({% … %}) are not allowed; use {{ field }} only")


def templates_clean(raw: object) -> dict[str, dict[str, str]]:
    """``{"fa": {"subject": .., "body": ..}, ...}`` checked; at least one locale."""
    if not isinstance(raw, Mapping) or not raw:
        raise TemplateError("templates", f"give at least one of {', '.join(LOCALES)}")
    out: dict[str, dict[str, str]] = {}
    for locale, parts in raw.items():
        if locale not in LOCALES:
            raise TemplateError(f"templates.{locale}", f"use one of {', '.join(LOCALES)}")
        if not isinstance(parts, Mapping):
            raise TemplateError(f"templates.{locale}", "an object with subject and body")
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise TemplateError(f"templates.{locale}.{sorted(unknown)[0]}", "use subject and body")
        subject = parts.get("subject") or ""
        body = parts.get("body") or ""
        if not isinstance(subject, str) or not isinstance(body, str):
            raise TemplateError(f"templates.{locale}", "subject and body are text")
        if not body.strip():
            raise TemplateError(f"templates.{locale}.body", "the body is empty")
        if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
            raise TemplateError(
                f"templates.{locale}", f"at most {MAX_SUBJECT} / {MAX_BODY} characters"
            )
        template_check(subject, where=f"templates.{locale}.subject")
        template_check(body, where=f"templates.{locale}.body")
        out[locale] = {"subject": subject.strip(), "body": body.strip()}
    return out


def render(text: str, values: Mapping[str, str], *, escape: bool = False) -> str:
    """Substitute the fields; ``escape`` for HTML (the text around them is escaped too)."""
    out: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(text):
        before = text[last : match.start()]
        value = str(values.get(match.group(1), ""))
        out.append(html.escape(before) if escape else before)
        out.append(html.escape(value) if escape else value)
        last = match.end()
    tail = text[last:]
    out.append(html.escape(tail) if escape else tail)
    return "".join(out)


def pick_locale(templates: Mapping[str, object], locale: str) -> str:
    """The customer's language if the rule has it, else English, else the first one."""
    if locale in templates:
        return locale
    if "en" in templates:
        return "en"
    return next(iter(templates))
