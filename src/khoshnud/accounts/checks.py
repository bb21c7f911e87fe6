"""A deployment check (`khoshnud manage check --deploy`): the demo SECRET_KEY in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security, deploy=True)
def demo_secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.SECRET_KEY != settings.DEMO_SECRET_KEY:
        return []
    return [
        CheckWarning(
            "SECRET_KEY is the demo key: anyone can forge sessions and password-reset links.",
            hint="Set SECRET_KEY to a long random value; `khoshnud serve` refuses the demo key.",
            id="khoshnud.W001",
        )
    ]
