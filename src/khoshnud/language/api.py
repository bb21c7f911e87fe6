"""API for language analyses: read one, and let an agent correct it."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from khoshnud.accounts.api_auth import require
from khoshnud.accounts.models import Scope
from khoshnud.inputs import RowId
from khoshnud.interactions.models import Interaction
from khoshnud.language.models import MessageAnalysis

router = Router(tags=["language"])


class AnalysisDetailOut(Schema):
    interaction_id: int
    language: str
    language_confidence: float
    need: str
    need_probabilities: dict[str, float]
    sentiment: str
    sentiment_score: float
    model_version: str
    corrected_need: str
    corrected_sentiment: str


class CorrectionIn(Schema):
    need: str | None = None
    sentiment: str | None = None


def _out(analysis: MessageAnalysis) -> dict:
    return {
        "interaction_id": analysis.interaction_id,
        "language": analysis.language,
        "language_confidence": analysis.language_confidence,
        "need": analysis.final_need,
        "need_probabilities": analysis.need_probabilities,
        "sentiment": analysis.final_sentiment,
        "sentiment_score": analysis.sentiment_score,
        "model_version": analysis.model_version,
        "corrected_need": analysis.corrected_need,
        "corrected_sentiment": analysis.corrected_sentiment,
    }


@router.get("/interactions/{interaction_id}/analysis", response=AnalysisDetailOut)
def get_analysis(request: HttpRequest, interaction_id: RowId) -> dict:
    """Language, need and sentiment of an inbound interaction (404 until it is classified)."""
    require(request, scope=Scope.READ)
    # An erased message has no analysis (erasure deletes it; this also covers a classification
    # that finished after the erasure began).
    analysis = MessageAnalysis.objects.filter(
        interaction_id=interaction_id, interaction__erased_at__isnull=True
    ).first()
    if analysis is None:
        raise HttpError(404, f"interaction {interaction_id} has no analysis (yet)")
    return _out(analysis)


@router.post("/interactions/{interaction_id}/analysis", response=AnalysisDetailOut)
def correct_analysis(request: HttpRequest, interaction_id: RowId, payload: CorrectionIn) -> dict:
    """An agent's correction (`{"need": "care"}`, `{"sentiment": "negative"}` or both);
    kept, audited and used by the next `khoshnud language train`."""
    from khoshnud.language.services import analysis_correct

    require(request, scope=Scope.WRITE)
    try:
        analysis = analysis_correct(interaction_id=interaction_id, user=request.user,
                                    need=payload.need, sentiment=payload.sentiment)  # fmt: skip
    except Interaction.DoesNotExist:
        raise HttpError(404, f"no interaction {interaction_id}") from None
    except ValueError as exc:
        raise HttpError(422, str(exc)) from None
    return _out(analysis)
