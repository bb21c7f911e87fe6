"""Answers given on the public survey page: the link checked, the answers validated and
recorded once — each submission an inbound ``survey answer`` interaction on the customer's
timeline, its comments classified like any message (the interaction pipeline)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from khoshnud.calendars import latin_digits
from khoshnud.cases.models import Case
from khoshnud.commerce.selectors import order_product_id
from khoshnud.feedback.links import token_invitation_id, token_matches
from khoshnud.feedback.models import (
    SCALES,
    Invitation,
    Question,
    QuestionKind,
    ScoreKind,
    Source,
    SurveyResponse,
)
from khoshnud.feedback.selectors import case_resolvers
from khoshnud.feedback.services import answers_followed_up
from khoshnud.feedback.surveys import question_scale
from khoshnud.inputs import storable_text
from khoshnud.interactions.models import Channel, Direction, InteractionType
from khoshnud.interactions.services import events_ingest

MAX_COMMENT = 5_000
SOURCE = "survey"  # the interaction log's source of answers given on the page


class LinkUnusable(Exception):
    """The link cannot take an answer: ``reason`` is invalid, expired or answered."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def invitation_for_token(token: str) -> Invitation:
    """The invitation a token opens; ``LinkUnusable("invalid")`` for any other token."""
    invitation_id = token_invitation_id(token)
    invitation = (
        Invitation.objects.select_related("survey").filter(pk=invitation_id).first()
        if invitation_id is not None
        else None
    )
    if invitation is None or not token_matches(
        token=token, invitation_id=invitation.pk, secret=invitation.secret
    ):
        raise LinkUnusable("invalid")
    return invitation


def link_state(invitation: Invitation, now: dt.datetime | None = None) -> str:
    """ "" when the link takes an answer; else "answered" or "expired"."""
    if invitation.answered_at is not None:
        return "answered"
    if (now or timezone.now()) >= invitation.expires_at:
        return "expired"
    return ""


@dataclass(frozen=True)
class PageAnswer:
    question: Question
    score: int | None = None
    choice: str = ""
    comment: str = ""


def clean_comment(value: str | None) -> str:
    return storable_text((value or "").strip())[:MAX_COMMENT]


def answers_clean(
    questions: Sequence[Question], data: Mapping[str, str]
) -> tuple[list[PageAnswer], dict[int, str]]:
    """The page's fields (``q<id>`` the answer, ``c<id>`` the comment) → answers, and the
    problems by question id (messages for the customer, translated by the caller's locale)."""
    answers: list[PageAnswer] = []
    problems: dict[int, str] = {}
    for q in questions:
        raw = (data.get(f"q{q.pk}") or "").strip()
        raw_comment = (data.get(f"c{q.pk}") or "").strip()
        comment = clean_comment(raw_comment)
        if len(raw_comment) > MAX_COMMENT:
            problems[q.pk] = _("The comment is too long (at most 5,000 characters).")
            continue
        if q.kind == QuestionKind.TEXT:
            if not comment and not raw and q.required:
                problems[q.pk] = _("Please write an answer.")
            elif comment or raw:
                answers.append(PageAnswer(q, comment=comment or clean_comment(raw)))
            continue
        if not raw:
            if q.required:
                problems[q.pk] = _("Please choose an answer.")
            continue
        if q.kind == QuestionKind.CHOICE:
            values = {c.get("value") for c in q.choices if isinstance(c, dict)}
            if raw not in values:
                problems[q.pk] = _("Please choose one of the answers shown.")
            else:
                answers.append(PageAnswer(q, choice=raw, comment=comment))
            continue
        score = score_of(q, raw)
        if score is None:
            low, high = question_scale(q) or (0, 0)
            problems[q.pk] = _("Please choose a score from %(low)s to %(high)s.") % {
                "low": low,
                "high": high,
            }
        else:
            answers.append(PageAnswer(q, score=score, comment=comment))
    return answers, problems


def score_of(question: Question, raw: object) -> int | None:
    """``raw`` as a score on the question's scale (digits in any script), else None."""
    text = latin_digits(str(raw).strip())
    if not text.lstrip("-").isdigit() or len(text) > 4:
        return None
    scale = question_scale(question)
    value = int(text)
    if scale is None or not scale[0] <= value <= scale[1]:
        return None
    return value


def _response_kind(question: Question) -> str:
    return question.kind if question.kind in SCALES else ScoreKind.CUSTOM


def answers_record(
    *,
    invitation_id: int,
    answers: Sequence[PageAnswer],
    final: bool,
    now: dt.datetime | None = None,
) -> list[SurveyResponse]:
    """Record a submission of the page: the first score alone (``final`` False, the one-tap
    link) or the rest of the survey (``final``: the link is used up). Transactional; raises
    ``LinkUnusable`` for a link used or expired meanwhile. A question answered before (by the
    one-tap score) keeps its score; a comment sent for it now is added to it."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
        state = link_state(invitation, now)
        if state:
            raise LinkUnusable(state)
        if not final and invitation.started_at is not None:
            return []  # the one-tap score was recorded already (a second tap, a reload)
        responses = SurveyResponse.objects.filter(invitation_id=invitation.pk)
        existing = {r.question_id: r for r in responses.select_related("question")}
        fresh = [a for a in answers if a.question.pk not in existing]
        commented = [
            (existing[a.question.pk], a.comment)
            for a in answers
            if a.question.pk in existing and a.comment and not existing[a.question.pk].comment
        ]
        if not fresh and not commented and not final:
            return []
        case_channel, agent_id = None, None
        if invitation.case_id is not None:
            case_channel = (
                Case.objects.filter(pk=invitation.case_id).values_list("channel", flat=True).first()
            )
            agent_id = case_resolvers([invitation.case_id]).get(invitation.case_id)
        # After a purchase: the answers are about the order's product (else the case's counts).
        product_id = order_product_id(order_id=invitation.order_id) if invitation.order_id else None
        logged = [*fresh, *(PageAnswer(r.question, comment=c) for r, c in commented if r.question)]
        interaction_id = _log_answer(invitation, logged, final, now)
        rows = [
            SurveyResponse(
                kind=_response_kind(a.question),
                score=a.score,
                choice=a.choice,
                comment=a.comment,
                customer_id=invitation.customer_id,
                case_id=invitation.case_id,
                agent_id=agent_id,
                channel=case_channel or invitation.channel,
                answered_at=now,
                source=Source.PAGE,
                interaction_id=interaction_id,
                survey_id=invitation.survey_id,
                question=a.question,
                invitation=invitation,
                product_id=product_id,
            )
            for a in fresh
        ]
        stored = SurveyResponse.objects.bulk_create(rows)
        for response, comment in commented:
            response.comment = comment
            response.save(update_fields=["comment"])
        invitation.started_at = invitation.started_at or now
        if final:
            invitation.answered_at = now
        invitation.save(update_fields=["started_at", "answered_at"])
        answers_followed_up(responses=stored)
    return stored


def _answer_meta(a: PageAnswer) -> dict[str, object]:
    q = a.question
    return {"question": q.position, "kind": q.kind, "score": a.score, "choice": a.choice or None}


def _log_answer(
    invitation: Invitation, answers: Sequence[PageAnswer], final: bool, now: dt.datetime
) -> int | None:
    """The inbound ``survey answer`` interaction of one submission: its text the comments
    (markup kept as text: it is escaped wherever it is shown), its metadata the scores."""
    if not answers:
        return None
    text = "\n\n".join(a.comment for a in answers if a.comment)
    [result] = events_ingest(
        events=[
            {
                "source": SOURCE,
                "external_id": f"invitation-{invitation.pk}-{'final' if final else 'first'}",
                "channel": Channel.WEB,
                "direction": Direction.INBOUND,
                "type": InteractionType.SURVEY_ANSWER,
                "stage": "service" if invitation.case_id else "after_purchase",
                "occurred_at": now.isoformat(),
                "text": text,
                "metadata": {
                    "survey": {
                        "survey_id": invitation.survey_id,
                        "invitation_id": invitation.pk,
                        "case_id": invitation.case_id,
                        "answers": [
                            {
                                "question": a.question.position,
                                "kind": a.question.kind,
                                "score": a.score,
                                "choice": a.choice or None,
                            }
                            for a in answers
                        ],
                    }
                },
                "customer": {"id": invitation.customer_id},
            }
        ]
    )
    return result.id
