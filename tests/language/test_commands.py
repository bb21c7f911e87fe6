"""`khoshnud language train | eval | analyse` end to end on tiny files."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from khoshnud.customers.models import Customer
from khoshnud.interactions.models import Interaction
from khoshnud.language.classifier import forget_loaded_models, load_models
from khoshnud.language.corpus import is_heldout
from khoshnud.language.models import MessageAnalysis
from khoshnud.language.pipeline import analyse
from tests.language.conftest import write_corpus


def _run(*args: str) -> list[str]:
    out = StringIO()
    call_command("language", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_eval_prints_figures_and_a_json_last_line(tmp_path: Path, tiny_artifacts: Path) -> None:
    path = _write(
        tmp_path / "eval.csv",
        ["text", "label", "lang", "task"],
        [
            ["服务太差了，我要退款", "care", "zh", "need"],
            ["服务太差了，我要退款", "negative", "zh", "sentiment"],
            ["what time do you open on sunday", "service", "en", "need"],
            ["what time do you open on sunday", "neutral", "en", ""],  # task from the label
            ["the app crashes when I log in", "support", "en", "need"],
            ["ساعت کاری شما چنده؟", "service", "fa", "need"],
            ["hello", "angry", "en", ""],  # unknown label: reported, not scored
            ["hello", "care", "en", "sentiment"],  # label of another task: unknown
        ],
    )
    lines = _run("eval", str(path), "--artifacts", str(tiny_artifacts))
    report = json.loads(lines[-1])
    assert set(report) == {
        "need",
        "sentiment",
        "lang_id",
        "msgs_per_s",
        "model_version",
        "unknown_labels",
    }
    assert {lang: v["n"] for lang, v in report["need"].items()} == {"fa": 1, "zh": 1, "en": 2}
    assert {lang: v["n"] for lang, v in report["sentiment"].items()} == {"fa": 0, "zh": 1, "en": 1}
    assert report["sentiment"]["fa"]["macro_f1"] is None
    assert report["need"]["zh"] == {"macro_f1": 1.0, "accuracy": 1.0, "n": 1}
    assert report["lang_id"]["n"] == 4 and report["lang_id"]["accuracy"] == 1.0
    assert report["unknown_labels"] == {"angry": 1, "care": 1}
    assert report["model_version"].startswith("lang2-")
    assert any("confusion" in line for line in lines)


def test_eval_refuses_a_file_without_a_required_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.csv", ["text", "label"], [["hello", "service"]])
    with pytest.raises(CommandError, match=r"missing column.*lang"):
        _run("eval", str(path))
    with pytest.raises(CommandError, match="cannot open"):
        _run("eval", str(tmp_path / "nowhere.csv"))


def test_analyse_prints_json(tiny_artifacts: Path) -> None:
    [line] = _run("analyse", "应用一登录就闪退", "--artifacts", str(tiny_artifacts))
    result = json.loads(line)
    assert result["language"] == "zh" and result["need"] in {"support", "service"}
    assert -1 <= result["sentiment_score"] <= 1


@pytest.mark.django_db
def test_a_correction_changes_what_train_learns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_corpus(tmp_path)
    monkeypatch.setenv("KHOSHNUD_LANGUAGE_DATA", str(tmp_path))
    folder = tmp_path / "artifacts"
    word = next(w for w in (f"zorblax quimbo {i}" for i in range(50)) if not is_heldout(w))

    lines = _run("train", "--seed", "1", "--artifacts", str(folder))
    assert "corrections: 0" in lines[0] and lines[-1].startswith("model version lang2-")
    forget_loaded_models()
    before = analyse(word, models=load_models(folder))
    assert before.need != "care"

    now = timezone.now()
    customer = Customer.objects.create(first_name="T")
    interaction = Interaction.objects.create(
        customer=customer,
        channel="chat",
        direction="inbound",
        type="message",
        occurred_at=now,
        text=word,
        source="test",
        external_id="c-1",
        created_at=now,
    )
    MessageAnalysis.objects.create(
        interaction=interaction,
        customer_id=customer.pk,
        language="en",
        language_confidence=1.0,
        need=before.need,
        sentiment=before.sentiment,
        sentiment_score=0.0,
        model_version=before.model_version,
        analysed_at=now,
        corrected_need="care",
    )
    lines = _run("train", "--seed", "1", "--artifacts", str(folder))
    assert "corrections: 1" in lines[0]
    forget_loaded_models()
    try:
        after = analyse(word, models=load_models(folder))
    finally:
        forget_loaded_models()
    assert after.need == "care"
    assert after.model_version != before.model_version


def test_eval_reads_a_source_column_and_breaks_the_scores_down_by_it(
    tmp_path: Path, tiny_artifacts: Path
) -> None:
    path = _write(
        tmp_path / "eval.csv",
        ["text", "label", "lang", "source"],
        [
            ["服务太差了，我要退款", "negative", "zh", "shop"],
            ["谢谢你们，服务非常好", "positive", "zh", "shop"],
            ["terrible service, I want a refund now", "negative", "en", "reviews"],
            ["thank you so much, the staff were wonderful", "positive", "en", "reviews"],
            ["the app crashes when I log in", "support", "en", "reviews"],
        ],
    )
    lines = _run("eval", str(path), "--artifacts", str(tiny_artifacts))
    report = json.loads(lines[-1])
    # The JSON contract is unchanged: the breakdown is printed above it.
    assert set(report) == {
        "need",
        "sentiment",
        "lang_id",
        "msgs_per_s",
        "model_version",
        "unknown_labels",
    }
    assert report["sentiment"]["zh"]["n"] == 2 and report["sentiment"]["en"]["n"] == 2
    start = lines.index("by source (macro-F1 / accuracy / n):")
    assert lines[start + 1 : start + 3] == [
        "  reviews: need [en] 1.0000 / 1.0000 / 1; sentiment [en] 1.0000 / 1.0000 / 2",
        "  shop: sentiment [zh] 1.0000 / 1.0000 / 2",
    ]


def test_eval_without_a_source_column_prints_no_breakdown(
    tmp_path: Path, tiny_artifacts: Path
) -> None:
    path = _write(tmp_path / "eval.csv", ["text", "label", "lang"], [["新年快乐", "other", "zh"]])
    lines = _run("eval", str(path), "--artifacts", str(tiny_artifacts))
    assert not any(line.startswith("by source") for line in lines)


def test_analyse_fast_takes_the_fast_path(tiny_artifacts: Path) -> None:
    default = json.loads(
        _run("analyse", "服务太差了，我要退款", "--artifacts", str(tiny_artifacts))[-1]
    )
    fast = json.loads(
        _run("analyse", "服务太差了，我要退款", "--fast", "--artifacts", str(tiny_artifacts))[-1]
    )
    assert fast["model_version"] == default["model_version"] + "-fast"
    assert fast["language"] == "zh" and fast["need"] == "care"
    assert fast["sentiment"] == "negative"


def test_eval_fast_scores_the_fast_path(tmp_path: Path, tiny_artifacts: Path) -> None:
    path = _write(tmp_path / "eval.csv", ["text", "label", "lang"], [["新年快乐", "other", "zh"]])
    lines = _run("eval", str(path), "--fast", "--artifacts", str(tiny_artifacts))
    report = json.loads(lines[-1])
    assert report["model_version"].endswith("-fast")
    assert report["need"]["zh"] == {"macro_f1": 1.0, "accuracy": 1.0, "n": 1}
