"""Sets up a fresh benchmark database, runs one benchmark, prints its JSON last."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

BENCHES = {
    "ingest": 1_000_000,
    "timeline": 1_000_000,
    "language": 5_000,
    "cases": 100_000,
    "channels": 20_000,
    "dashboard": 5_000,  # full size: --scale 1000000 --db postgres (docs/benchmarks.md)
    "engagement": 1_000_000,
}
MODULES = {"cases": "case_routing"}  # a bench whose module is not named after it
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/khoshnud_bench"


def _prepare_database(db: str, name: str) -> str:
    if db == "sqlite":
        folder = Path(os.environ.get("KHOSHNUD_DATA_DIR", Path.cwd() / "var")) / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    url = os.environ.get("KHOSHNUD_BENCH_PG", PG_DEFAULT)
    base, dbname = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="khoshnud bench", description=__doc__)
    parser.add_argument("name", choices=sorted(BENCHES))
    parser.add_argument("--scale", type=int, help="events / rows / messages (default: full size)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args(argv)
    scale = args.scale or BENCHES[args.name]
    if scale < 1:
        parser.error("--scale must be positive")
    if args.name != "language":
        os.environ["DATABASE_URL"] = _prepare_database(args.db, args.name)
    os.environ["KHOSHNUD_TASK_BACKEND"] = "dummy"  # measure ingestion, not the classifier
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "khoshnud.settings")
    import django

    django.setup()
    if args.name != "language":
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    module = importlib.import_module(f"bench.{MODULES.get(args.name, args.name)}")
    started = time.perf_counter()
    result: dict[str, Any] = module.run(scale=scale, db=args.db)
    result.update(
        bench=args.name, db=args.db, scale=scale, wall_s=round(time.perf_counter() - started, 2)
    )
    sys.stdout.flush()
    print(json.dumps(result, ensure_ascii=False))
