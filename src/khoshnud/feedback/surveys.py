"""Surveys and their questions: created and checked (services of the feedback app)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from khoshnud.feedback.models import SCALES, Question, QuestionKind, Survey, Trigger
from khoshnud.inputs import InputError, clean_int, clean_json, clean_str

LOCALES = ("en", "fa", "zh-hans")
SCORE_KINDS = frozenset(SCALES) | {QuestionKind.SCALE}


class SurveyNotReady(Exception):
    """A survey that cannot be sent: no question, or a question that cannot be shown."""


def question_scale(question: Question) -> tuple[int, int] | None:
    """(lowest, highest) of a score question; None for a choice or text question."""
    if question.kind in SCALES:
        return SCALES[question.kind]
    if question.kind == QuestionKind.SCALE:
        if question.scale_min is None or question.scale_max is None:
            return None
        return question.scale_min, question.scale_max
    return None


def localized(texts: Mapping[str, str] | None, locale: str) -> str:
    """The text for ``locale``, else English, else any."""
    texts = texts or {}
    return texts.get(locale) or texts.get("en") or next(iter(texts.values()), "")


def survey_problems(survey: Survey, questions: Sequence[Question] | None = None) -> list[str]:
    """Why ``survey`` cannot be sent, in plain words; empty when it can."""
    questions = list(survey.questions.all()) if questions is None else list(questions)
    problems: list[str] = []
    if not questions:
        problems.append(f"survey {survey.pk} has no question; add one before sending it")
    for q in questions:
        where = f"question {q.position}"
        if not any((q.texts or {}).get(loc) for loc in LOCALES):
            problems.append(f"{where} has no text in any language (en, fa, zh-hans)")
        if q.kind == QuestionKind.SCALE:
            scale = question_scale(q)
            if scale is None or not scale[0] < scale[1] or scale[1] - scale[0] > 20:
                problems.append(f"{where}: a custom scale needs from < to, at most 21 points")
        if q.kind == QuestionKind.CHOICE:
            values = [c.get("value") for c in q.choices if isinstance(c, dict)]
            if len(values) < 2 or len(set(values)) != len(values) or not all(values):
                problems.append(f"{where}: a choice question needs two or more distinct values")
    return problems


def survey_ready(survey: Survey) -> list[Question]:
    """The survey's questions, in order; ``SurveyNotReady`` naming what is missing."""
    questions = list(survey.questions.all())
    problems = survey_problems(survey, questions)
    if problems:
        raise SurveyNotReady("; ".join(problems))
    return questions


def survey_create(
    *,
    name: str,
    questions: Sequence[Mapping[str, Any]],
    trigger: str = Trigger.MANUAL,
    titles: Mapping[str, str] | None = None,
    intros: Mapping[str, str] | None = None,
    **options: Any,
) -> Survey:
    """A survey with its questions (``{"kind", "texts", "comment_texts", "scale_min",
    "scale_max", "choices", "required"}`` each). ``InputError`` when it could not be sent."""
    if not questions:
        raise InputError("questions", "a survey needs at least one question")
    # What PostgreSQL refuses (NUL, lone surrogates, a scale beyond a small integer) is refused
    # here with the field's name, before anything is written (SQLite would have stored it).
    name = clean_str(name, field="name", max_length=120)
    titles = clean_json(dict(titles or {}), field="titles")
    intros = clean_json(dict(intros or {}), field="intros")
    for index, spec in enumerate(questions):
        where = f"questions[{index}]"
        for key in ("texts", "comment_texts", "choices"):
            clean_json(spec.get(key), field=f"{where}.{key}")
        for key in ("scale_min", "scale_max"):
            if spec.get(key) is not None:
                clean_int(spec[key], field=f"{where}.{key}", minimum=-100, maximum=100)
    if trigger not in Trigger.values:
        raise InputError("trigger", f"{trigger!r} is not one of {', '.join(Trigger.values)}")
    with transaction.atomic():
        survey = Survey.objects.create(
            name=name, trigger=trigger, titles=dict(titles or {}), intros=dict(intros or {}),
            **options,
        )  # fmt: skip
        rows = []
        for position, spec in enumerate(questions, start=1):
            kind = spec.get("kind")
            if kind not in QuestionKind.values:
                raise InputError(
                    f"questions[{position - 1}].kind",
                    f"{kind!r} is not one of {', '.join(QuestionKind.values)}",
                )
            rows.append(
                Question(
                    survey=survey,
                    position=position,
                    kind=kind,
                    texts=dict(spec.get("texts") or {}),
                    comment_texts=dict(spec.get("comment_texts") or {}),
                    scale_min=spec.get("scale_min"),
                    scale_max=spec.get("scale_max"),
                    choices=list(spec.get("choices") or []),
                    required=bool(spec.get("required", True)),
                )
            )
        Question.objects.bulk_create(rows)
        problems = survey_problems(survey, rows)
        if problems:
            raise InputError("questions", "; ".join(problems))
    return survey
