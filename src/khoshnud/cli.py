"""The ``khoshnud`` console command.

Every sub-command is a Django management command of the app that owns it
(``demo``, ``serve``, ``worker``, ``import``, ``bench``, ``token``, ``language``...);
``khoshnud manage ...`` reaches any other management command.
"""

from __future__ import annotations

import os
import sys

COMMANDS = {
    "demo": "demo",
    "serve": "serve",
    "worker": "worker",
    "import": "import_csv",
    "token": "token",
    "user": "user",
    "language": "language",
    "pipeline": "pipeline",
    "periodic": "periodic",
    "migrate": "migrate",
    "insights": "insights",
    "engagement": "engagement",
}

USAGE = """usage: khoshnud COMMAND [options]

commands:
  demo        migrate, load the demo business (once) and serve the UI (--port, default 8000)
  serve       serve the web UI and API with gunicorn (production)
  worker      run background tasks, supervised and restarted (database queue, or RQ with
              KHOSHNUD_TASK_BACKEND=rq); --processes N, --no-supervise, --batch
  import      import customers, products, orders or interactions from CSV
  token       create, list or revoke API tokens
  user        create staff users with a role
  language    train / eval / analyse the offline language models; `language backfill`
              classifies what was missed (the language steps of `pipeline backfill`)
  pipeline    backfill: hand each pipeline step the interactions it has not handled
  periodic    list the periodic jobs the worker runs (breach scans…); --run NAME queues one
  insights    rebuild the dashboard's rollups from scratch (`insights rebuild`) or refresh them
  bench       run a benchmark: ingest, timeline, language, cases, channels, dashboard
  migrate     create or update the database schema
  engagement  run: one outreach scheduler pass now (or --now ISO8601); prints its JSON
  manage      any Django management command
"""


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "khoshnud.settings")
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return
    name, rest = args[0], args[1:]
    if name == "bench":
        _run_bench(rest)
        return
    command_args = management_args(name, rest)
    if command_args is None:
        print(f"khoshnud: unknown command {name!r}\n\n{USAGE}", file=sys.stderr)
        raise SystemExit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["khoshnud", *command_args])


def management_args(name: str, rest: list[str]) -> list[str] | None:
    """The management command line for ``khoshnud NAME REST…`` (None: no such command)."""
    if name == "manage":
        return rest
    if name == "language" and rest[:1] == ["backfill"]:
        # The language steps of the general backfill, under the name users look for.
        return ["pipeline", "backfill", "--app", "language", *rest[1:]]
    if name in COMMANDS:
        return [COMMANDS[name], *rest]
    return None


def _run_bench(rest: list[str]) -> None:
    """Benchmarks live in the repository's bench/ folder (next to src/), not in the package."""
    from pathlib import Path

    for folder in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (folder / "bench" / "runner.py").is_file():
            sys.path.insert(0, str(folder))
            break
    else:
        print(
            "khoshnud bench: run it from the project checkout (bench/ not found)", file=sys.stderr
        )
        raise SystemExit(2)
    from bench.runner import main as bench_main

    bench_main(rest)


if __name__ == "__main__":
    main()
