"""The public survey page: no login, the link's token is the key; mobile-first, in the
customer's language (fa right-to-left with Persian digits, zh-hans, en)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from khoshnud.accounts.throttle import client_ip
from khoshnud.calendars import persian_digits
from khoshnud.feedback.answers import (
    LinkUnusable,
    PageAnswer,
    answers_clean,
    answers_record,
    clean_comment,
    invitation_for_token,
    link_state,
    score_of,
)
from khoshnud.feedback.models import Invitation, Question, QuestionKind, SurveyResponse
from khoshnud.feedback.surveys import localized, question_scale
from khoshnud.feedback.throttle import page_hit

_LOCALES = {"en", "fa", "zh-hans"}


def _ends(kind: str) -> tuple[str, str] | None:
    """The two ends of a standard scale, in words under it (in the active language)."""
    words = {
        "nps": (_("Not at all likely"), _("Extremely likely")),
        "csat": (_("Very unsatisfied"), _("Very satisfied")),
        "ces": (_("Very difficult"), _("Very easy")),
    }
    return words.get(kind)


def _number(value: int, locale: str) -> str:
    return persian_digits(str(value)) if locale == "fa" else str(value)


def _message(request: HttpRequest, state: str, status: int, **extra: Any) -> HttpResponse:
    response = render(request, "feedback/message.html", {"state": state, **extra}, status=status)
    response["Cache-Control"] = "no-store"
    return response


@csrf_protect
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    asked = request.GET.get("lang", "")
    wait = page_hit(ip=client_ip(request))
    try:
        invitation = invitation_for_token(token)
    except LinkUnusable:
        invitation = None
    locale = asked if asked in _LOCALES else (invitation.locale if invitation else "")
    with translation.override(locale or translation.get_language()):
        if wait:
            response = _message(request, "busy", 429)
            response["Retry-After"] = str(wait)
            return response
        if invitation is None:
            return _message(request, "invalid", 404)
        return _page(request, invitation, locale or "en")


def _page(request: HttpRequest, invitation: Invitation, locale: str) -> HttpResponse:
    state = link_state(invitation)
    if state == "expired":
        return _message(request, "expired", 410)
    if state == "answered":
        # A second answer with the same link is refused politely; nothing is counted again.
        return _message(request, "answered", 409 if request.method == "POST" else 200)
    questions = list(invitation.survey.questions.all())
    if not questions:
        return _message(request, "unavailable", 410)
    answered = {
        r.question_id: r for r in SurveyResponse.objects.filter(invitation_id=invitation.pk)
    }
    first = questions[0]
    problems: dict[int, str] = {}
    data: dict[str, str] = {}
    if request.method == "POST":
        data = {k: v for k, v in request.POST.items() if isinstance(v, str)}
        final = data.get("action") != "first"
        asked = questions if final else [first]
        todo = [q for q in asked if q.pk not in answered]
        answers, problems = answers_clean(todo, data)
        for q in asked:  # a comment on a question scored by the one-tap link
            if q.pk in answered and data.get(f"c{q.pk}", "").strip():
                answers.append(PageAnswer(q, comment=clean_comment(data[f"c{q.pk}"])))
        if not problems:
            try:
                answers_record(invitation_id=invitation.pk, answers=answers, final=final)
            except LinkUnusable as exc:
                status = 410 if exc.reason == "expired" else 409
                return _message(request, exc.reason, status)
            if final:
                return _message(request, "thanks", 200)
            return HttpResponseRedirect(request.path + (f"?lang={locale}"))
    one_tap = None
    if request.method == "GET" and first.pk not in answered and "score" in request.GET:
        one_tap = score_of(first, request.GET["score"])
        if one_tap is not None:
            data = {f"q{first.pk}": str(one_tap)}
    context = {
        "invitation": invitation,
        "title": localized(invitation.survey.titles, locale) or _("How did we do?"),
        "intro": localized(invitation.survey.intros, locale),
        "questions": [_question(q, locale, answered.get(q.pk), data, problems) for q in questions],
        "one_tap": one_tap,
        "first": first,
        "started": bool(answered),
        "locale": locale,
        "languages": [("fa", "فارسی"), ("zh-hans", "中文"), ("en", "English")],
    }
    response = render(request, "feedback/page.html", context, status=400 if problems else 200)
    response["Cache-Control"] = "no-store"
    # The token stays out of other sites' logs; same-origin keeps the form's Origin header
    # (with no-referrer a browser sends "Origin: null" and the CSRF check refuses the POST).
    response["Referrer-Policy"] = "same-origin"
    return response


def _question(
    q: Question,
    locale: str,
    answer: SurveyResponse | None,
    data: dict[str, str],
    problems: dict[int, str],
) -> dict[str, Any]:
    scale = question_scale(q)
    points = []
    if scale is not None:
        points = [
            {"value": str(v), "label": _number(v, locale)} for v in range(scale[0], scale[1] + 1)
        ]
    choices = [
        {"value": c.get("value"), "label": localized(c.get("texts"), locale) or c.get("value")}
        for c in q.choices
        if isinstance(c, dict)
    ]
    return {
        "id": q.pk,
        "kind": q.kind,
        "text": localized(q.texts, locale),
        "comment_prompt": localized(q.comment_texts, locale),
        "points": points,
        "wide": len(points) > 7,
        "ends": _ends(q.kind) if q.kind in ("nps", "csat", "ces") else None,
        "choices": choices,
        "is_text": q.kind == QuestionKind.TEXT,
        "answered": answer,
        "answered_label": _number(answer.score, locale)
        if answer is not None and answer.score is not None
        else (answer.choice if answer else ""),
        "selected": data.get(f"q{q.pk}", ""),
        "comment": data.get(f"c{q.pk}", ""),
        "problem": problems.get(q.pk, ""),
        "required": q.required,
    }
