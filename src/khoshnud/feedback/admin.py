"""Django admin for feedback: surveys and their questions are edited here (audited); answers,
invitations, follow-ups and verdicts are read-only (services write them)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from khoshnud.admin_base import AuditedAdmin, ReadOnlyAdmin
from khoshnud.admin_display import viewer_datetime
from khoshnud.feedback.models import (
    CaseVerdict,
    DelightAction,
    Invitation,
    Question,
    Recovery,
    Survey,
    SurveyResponse,
)
from khoshnud.feedback.surveys import survey_problems


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = ["position", "kind", "texts", "comment_texts", "scale_min", "scale_max", "choices",
              "required"]  # fmt: skip


@admin.register(Survey)
class SurveyAdmin(AuditedAdmin):
    list_display = ["name", "trigger", "active", "ready"]
    list_filter = ["trigger", "active"]
    search_fields = ["name"]
    readonly_fields = ["ready"]
    inlines = [QuestionInline]

    @admin.display(description=_("ready to send"))
    def ready(self, obj: Survey) -> str:
        if obj.pk is None:
            return ""
        return "; ".join(survey_problems(obj)) or "✓"


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["kind", "score", "choice", "customer", "agent", "channel", "source",
                    viewer_datetime(SurveyResponse, "answered_at")]  # fmt: skip
    list_filter = ["kind", "source", "channel"]
    raw_id_fields = ["customer", "case", "agent", "invitation", "question"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["survey", "customer", "reason", "channel",
                    viewer_datetime(Invitation, "created_at"),
                    viewer_datetime(Invitation, "answered_at")]  # fmt: skip
    list_filter = ["reason", "channel", "survey"]
    exclude = ["secret"]  # with the SECRET_KEY it makes the link: never shown


@admin.register(Recovery)
class RecoveryAdmin(ReadOnlyAdmin):
    list_display = ["response", "case", "outcome", "won_back",
                    viewer_datetime(Recovery, "opened_at")]  # fmt: skip
    list_filter = ["outcome", "won_back"]


@admin.register(CaseVerdict)
class CaseVerdictAdmin(ReadOnlyAdmin):
    list_display = ["case", "verdict", viewer_datetime(CaseVerdict, "resolved_at")]
    list_filter = ["verdict"]


@admin.register(DelightAction)
class DelightActionAdmin(ReadOnlyAdmin):
    list_display = ["case", "note", "actor", "created_at"]
