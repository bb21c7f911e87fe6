"""The feedback panel on the case page: the case's verdict, the answers about it, its care
follow-up (outcome form), and delight actions (form). At most four small queries."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from khoshnud.cases.models import Case, CaseKind
from khoshnud.feedback.models import (
    CaseVerdict,
    DelightAction,
    Recovery,
    RecoveryOutcome,
    SurveyResponse,
    Verdict,
)

register = template.Library()

REASONS = {
    "first_response_late": _("first response after its due time"),
    "resolution_late": _("resolved after its due time"),
    "low_score": _("a low score"),
    "top_score": _("a top score"),
    "delight_action": _("a delight action"),
}
_KINDS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}


@register.inclusion_tag("feedback/_case_panel.html")
def case_feedback(case: Case, can_change: bool = False) -> dict[str, Any]:
    verdict = CaseVerdict.objects.filter(case_id=case.pk).first() if case.resolved_at else None
    answers = [
        {"kind": _KINDS.get(r.kind, ""), "score": r.score, "choice": r.choice,
         "comment": r.comment, "at": r.answered_at}
        for r in SurveyResponse.objects.filter(case_id=case.pk).order_by("answered_at", "id")
    ]  # fmt: skip
    recovery = None
    if case.kind == CaseKind.CARE:
        recovery = Recovery.objects.select_related("response").filter(case_id=case.pk).first()
    return {
        "case": case,
        "can_change": can_change,
        "verdict": verdict,
        "verdict_label": Verdict(verdict.verdict).label if verdict else "",
        "reasons": [REASONS.get(r, r) for r in (verdict.reasons if verdict else [])],
        "answers": answers,
        "recovery": recovery,
        "recovery_kind": _KINDS.get(recovery.response.kind, "") if recovery else "",
        "outcomes": [c for c in RecoveryOutcome.choices if c[0] != RecoveryOutcome.OPEN],
        "outcome_label": RecoveryOutcome(recovery.outcome).label if recovery else "",
        "delights": list(DelightAction.objects.filter(case_id=case.pk)),
    }
