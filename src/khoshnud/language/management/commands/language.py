"""``khoshnud language split | train | eval | analyse | reanalyse``: the offline language
models."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from khoshnud.language.classifier import (
    CORRECTION_WEIGHT,
    artifact_dir,
    forget_loaded_models,
    load_models,
    save_models,
    train_models,
)
from khoshnud.language.corpus import (
    corpus_files,
    heldout_keys,
    heldout_path,
    is_heldout,
    read_corpus,
    split_corpus,
    text_key,
    training_examples,
    write_heldout,
)


class Command(BaseCommand):
    help = "Split the corpus, train, evaluate or try the offline language models."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        sub.add_parser("split", help="regenerate data/language/heldout.csv from the corpus")
        train = sub.add_parser(
            "train", help="train from the corpus (minus held-out) and agents' corrections"
        )
        train.add_argument("--seed", type=int, default=0)
        train.add_argument("--artifacts", type=Path, help="folder for the artefact")
        train.add_argument(
            "--no-corrections", action="store_true", help="ignore corrections in the database"
        )
        evaluate = sub.add_parser("eval", help="score the models on a labelled CSV")
        evaluate.add_argument("file", type=Path, help="CSV with text,label,lang[,task]")
        evaluate.add_argument("--artifacts", type=Path, help="folder of the artefact to use")
        evaluate.add_argument("--fast", action="store_true", help="score the fast path")
        analyse = sub.add_parser("analyse", help="print the analysis of one text as JSON")
        analyse.add_argument("text")
        analyse.add_argument("--artifacts", type=Path, help="folder of the artefact to use")
        analyse.add_argument(
            "--fast", action="store_true", help="the fast path (bulk imports): TF-IDF only"
        )

        reanalyse = sub.add_parser(
            "reanalyse",
            help="re-analyse with the default path the messages the fast path analysed",
        )
        reanalyse.add_argument("--limit", type=int, help="at most this many messages")
        reanalyse.add_argument(
            "--batch-size", type=int, default=200, help="messages per transaction (200)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "split":
            self._split()
        elif action == "train":
            self._train(options["seed"], options["artifacts"], not options["no_corrections"])
        elif action == "eval":
            self._eval(options["file"], options["artifacts"], options["fast"])
        elif action == "reanalyse":
            self._reanalyse(options["limit"], options["batch_size"])
        else:
            self._analyse(options["text"], options["artifacts"], options["fast"])

    def _reanalyse(self, limit: int | None, batch_size: int) -> None:
        from khoshnud.language.selectors import unclassified_count
        from khoshnud.language.services import analyses_reanalyse, backlog_limit

        try:
            report = analyses_reanalyse(limit=limit, batch_size=batch_size)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if report.stopped == "no-encoder":
            raise CommandError(
                f"the sentence encoder cannot load: the default path would answer with the "
                f"fast one ({report.upgraded} re-analysed before that)"
            )
        self.stdout.write(
            f"re-analysed {report.upgraded} message(s) with the default path "
            f"({load_models().version}); {report.remaining} fast analyses left; "
            f"{unclassified_count()} message(s) waiting for classification "
            f"(the fast path takes over above {backlog_limit()})"
        )

    def _split(self) -> None:
        examples, skipped = read_corpus(corpus_files())
        if not examples:
            raise CommandError("no corpus found under data/language/corpus/*.csv")
        train, heldout = split_corpus(examples)
        path = heldout_path()
        count = write_heldout(heldout, path)
        self.stdout.write(
            f"{len(examples)} corpus messages ({skipped} rows skipped): {len(train)} for "
            f"training, {count} distinct held out → {path} ({2 * count} rows)"
        )

    def _train(self, seed: int, folder: Path | None, with_corrections: bool) -> None:
        examples, skipped = training_examples()
        corrections = _corrections() if with_corrections else []
        excluded = heldout_keys(heldout_path())
        usable = [
            c for c in corrections if not is_heldout(c.text) and text_key(c.text) not in excluded
        ]
        self.stdout.write(
            f"corpus: {len(examples)} training messages from {len(corpus_files())} files "
            f"({skipped} rows skipped); corrections: {len(usable)} "
            f"(weight {CORRECTION_WEIGHT}, {len(corrections) - len(usable)} held out)"
        )
        try:
            models = train_models([*examples, *usable], seed=seed)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        path = save_models(models, folder or artifact_dir())
        forget_loaded_models()
        summary = models.summary
        self.stdout.write(
            f"trained need + sentiment on {summary['examples']} examples "
            f"{summary['by_language']} sources {summary['by_source']}, "
            f"{summary['features']} features, seed {seed}"
        )
        size_mb = path.stat().st_size / 1e6
        self.stdout.write(f"model version {models.version} → {path} ({size_mb:.1f} MB)")

    def _eval(self, file: Path, folder: Path | None, fast: bool = False) -> None:
        from khoshnud.language.evaluation import EvalFileError, evaluate, read_eval_file

        try:
            rows, unknown = read_eval_file(file)
        except EvalFileError as exc:
            raise CommandError(str(exc)) from exc
        report = evaluate(rows, load_models(folder), unknown, fast=fast)
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False))

    def _analyse(self, text: str, folder: Path | None, fast: bool) -> None:
        from khoshnud.language.pipeline import analyse

        result = analyse(text, models=load_models(folder), fast=fast)
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))


def _corrections() -> list[Any]:
    """Agents' corrections from the database; none when there is no usable database."""
    from khoshnud.language.selectors import corrections_for_training

    try:
        return corrections_for_training(weight=CORRECTION_WEIGHT)
    except DatabaseError:
        return []
