"""``"type": "survey_answer"`` events of ``POST /api/v1/events``: their ``survey`` field.

``{"kind": "nps" | "csat" | "ces", "score": N, "comment": "...", "case_id": N, "agent": "user",
"product": "SKU"}`` — one answer (``product``: the product it is about, else its case's), counted in every metric like an answer given on the survey page. The event's
``text`` (or else the comment) is the interaction's text, classified like any message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User

from khoshnud.cases.models import Case
from khoshnud.commerce.selectors import product_by_sku
from khoshnud.feedback.models import SCALES, Source, SurveyResponse
from khoshnud.feedback.selectors import case_resolvers
from khoshnud.feedback.services import responses_record
from khoshnud.inputs import InputError, clean_int, clean_str, storable_text
from khoshnud.interactions.extensions import StoredEvent
from khoshnud.interactions.models import InteractionType

MAX_COMMENT = 10_000
_KEYS = {"kind", "score", "comment", "case_id", "agent", "product"}


@dataclass(frozen=True, slots=True)
class SurveyAnswerIn:
    kind: str
    score: int
    comment: str
    case_id: int | None
    agent_id: int | None
    product_id: int | None = None


class SurveyEvents:
    def clean(self, value: object, *, event_type: str) -> SurveyAnswerIn:
        if event_type != InteractionType.SURVEY_ANSWER:
            raise InputError("survey", 'is only read on events of "type": "survey_answer"')
        if not isinstance(value, dict):
            raise InputError("survey", 'must be an object: {"kind": "nps", "score": 9}')
        unknown = sorted(set(value) - _KEYS)
        if unknown:
            raise InputError("survey", f"unknown field(s) {unknown}; use {sorted(_KEYS)}")
        kind = value.get("kind")
        if kind not in SCALES:
            raise InputError("survey.kind", f"{kind!r} is not one of {', '.join(SCALES)}")
        low, high = SCALES[kind]
        if isinstance(value.get("score"), bool) or value.get("score") is None:
            raise InputError("survey.score", f"is required: a whole number from {low} to {high}")
        score = clean_int(value["score"], field="survey.score", minimum=-(2**31))
        if not low <= score <= high:
            raise InputError(
                "survey.score", f"{score} is outside the {kind} scale ({low} to {high})"
            )
        comment = value.get("comment") or ""
        if not isinstance(comment, str):
            raise InputError("survey.comment", "must be a string")
        if len(comment) > MAX_COMMENT:
            raise InputError("survey.comment", f"is longer than {MAX_COMMENT} characters")
        case_id = None
        if value.get("case_id") is not None:
            case_id = clean_int(value["case_id"], field="survey.case_id")
            if not Case.objects.filter(pk=case_id).exists():
                raise InputError("survey.case_id", f"no case {case_id}")
        agent_id = None
        username = clean_str(
            value.get("agent"), field="survey.agent", max_length=150, required=False
        )
        if username:
            agent_id = User.objects.filter(username=username).values_list("pk", flat=True).first()
            if agent_id is None:
                raise InputError("survey.agent", f"unknown staff user {username!r}")
        product = product_by_sku(sku=value.get("product"), field="survey.product")
        return SurveyAnswerIn(
            kind, score, storable_text(comment), case_id, agent_id,
            product.pk if product is not None else None,
        )  # fmt: skip

    def text(self, cleaned: SurveyAnswerIn) -> str:
        return cleaned.comment

    def store(self, items: list[StoredEvent]) -> None:
        resolvers = case_resolvers(
            item.value.case_id for item in items if item.value.case_id and not item.value.agent_id
        )
        rows: list[SurveyResponse] = []
        for item in items:
            answer: SurveyAnswerIn = item.value
            agent_id: Any = answer.agent_id
            if agent_id is None and answer.case_id is not None:
                agent_id = resolvers.get(answer.case_id)
            if agent_id is None:
                agent_id = item.staff_id
            rows.append(
                SurveyResponse(
                    kind=answer.kind,
                    score=answer.score,
                    comment=answer.comment,
                    customer_id=item.customer_id,
                    case_id=answer.case_id,
                    agent_id=agent_id,
                    channel=item.channel,
                    answered_at=item.occurred_at,
                    source=Source.API,
                    interaction_id=item.interaction_id,
                    product_id=answer.product_id,
                )
            )
        responses_record(responses=rows)


SURVEY_EVENTS = SurveyEvents()
