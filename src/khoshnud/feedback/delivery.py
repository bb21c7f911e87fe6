"""The invitation email, rendered when it is sent (channels.email_outbound.rendered): the
question, one link per score (the first score in one tap), and the survey's address."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from khoshnud.calendars import persian_digits
from khoshnud.channels.provider_http import PermanentSendError
from khoshnud.feedback.links import survey_url, token_for
from khoshnud.feedback.models import Invitation
from khoshnud.feedback.surveys import localized, question_scale
from khoshnud.interactions.models import Interaction

_DIRECTION = {"fa": "rtl"}


def invitation_email(*, interaction: Interaction) -> tuple[str, str]:
    survey_meta = (interaction.metadata or {}).get("survey") or {}
    invitation_id = survey_meta.get("invitation_id")
    invitation = (
        Invitation.objects.select_related("survey").filter(pk=int(invitation_id)).first()
        if isinstance(invitation_id, int)
        else None
    )
    if invitation is None:
        raise PermanentSendError("the survey invitation of this email no longer exists")
    locale = invitation.locale
    token = token_for(invitation_id=invitation.pk, secret=invitation.secret)
    questions = list(invitation.survey.questions.all())
    first = questions[0] if questions else None
    scale = question_scale(first) if first else None
    scores = []
    if scale is not None:
        for score in range(scale[0], scale[1] + 1):
            label = persian_digits(str(score)) if locale == "fa" else str(score)
            scores.append({"label": label, "url": survey_url(token, score=score)})
    context = {
        "lang": "zh-Hans" if locale == "zh-hans" else locale,
        "dir": _DIRECTION.get(locale, "ltr"),
        "title": localized(invitation.survey.titles, locale),
        "intro": localized(invitation.survey.intros, locale),
        "question": localized(first.texts, locale) if first else "",
        "scores": scores,
        "url": survey_url(token),
        "nps": bool(first and first.kind == "nps"),
        "expires_at": invitation.expires_at,
    }
    with translation.override(locale):
        text = render_to_string("feedback/email_invitation.txt", context)
        html = render_to_string("feedback/email_invitation.html", context)
    return text, html
