"""Command line: python -m app serve | migrate | seed | export-schema | bench."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import get_settings

if TYPE_CHECKING:
    from app.tools.bench import Options


def _migrate(args: argparse.Namespace) -> int:
    from app.data.migrations import downgrade, upgrade

    url = args.database_url or get_settings().database_url
    started = time.perf_counter()
    if args.revision.startswith("-") or args.revision == "base":
        downgrade(url, args.revision)
    else:
        upgrade(url, args.revision)
    print(f"migrated to {args.revision} in {time.perf_counter() - started:.2f} s")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from app.seeding import SeedFailed, seed, validate

    if args.synthetic is not None:
        return _seed_synthetic(args)
    settings = get_settings()
    url = args.database_url or settings.database_url
    seed_dir = Path(args.seed_dir or settings.seed_dir)

    def progress(message: str) -> None:
        if args.verbose:
            print(f"  {message}", file=sys.stderr, flush=True)

    try:
        if args.check or args.coverage:
            dataset = validate(seed_dir)
            counts = dataset.counts()
            print(f"seed files are valid ({seed_dir}): " + ", ".join(f"{v} {k}" for k, v in counts.items()))
            if args.coverage:
                _print_coverage(dataset)
            if dataset.conflicts:
                _print_conflicts(dataset.conflicts, "conflict")
                return 3
            uncited = [slug for slug, coverage in dataset.coverage.items() if not coverage.complete]
            if uncited and args.check and not args.allow_uncited:
                print(
                    f"{len(uncited)} document(s) with uncited sentences: {', '.join(uncited)}; cite each sentence "
                    "from a fact or list it under `no_fact:` (see `seed --coverage`), or pass --allow-uncited",
                    file=sys.stderr,
                )
                return 4
            return 0
        outcome = asyncio.run(seed(url, seed_dir, reset=args.reset, progress=progress))
    except SeedFailed as failure:
        print(f"seed failed, nothing was written ({len(failure.errors)} error(s)):", file=sys.stderr)
        for error in failure.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    report = outcome.report
    assert report is not None
    print(report.table())
    verdict = "changes written" if report.changed else "nothing changed"
    print(f"{verdict}; data version {report.data_version}; {outcome.seconds:.2f} s")
    if outcome.conflicts:
        _print_conflicts(outcome.conflicts, "warning: conflict")
    return 0


def _print_coverage(dataset: Any) -> None:
    """Per document: sentences, cited, no-fact, uncited; then every uncited sentence with its offsets."""
    for slug, coverage in dataset.coverage.items():
        share = 100 * (coverage.cited + coverage.no_fact) / coverage.sentences if coverage.sentences else 100
        print(
            f"{slug}: {coverage.sentences} sentences: {coverage.cited} cited, {coverage.no_fact} no fact, "
            f"{len(coverage.uncited)} uncited ({share:.0f}% covered)"
        )
        text = dataset.documents[slug].text
        for start, end in coverage.uncited:
            print(f"  uncited [{start}:{end}]: {text[start:end]}")


def _print_conflicts(conflicts: Sequence[Any], label: str) -> None:
    """Each conflict with every value and the quote stating it, then what the seed does about them."""
    for conflict in conflicts:
        print(f"{label}: {conflict}", file=sys.stderr)
    print(
        f"{len(conflicts)} conflict{'s' if len(conflicts) != 1 else ''} between documents: each record keeps "
        "the value of the document with precedence (highest priority, then most recent publication, then name "
        "order) and the API lists every document's value under `conflicts`",
        file=sys.stderr,
    )


def _draft(args: argparse.Namespace) -> int:
    import time

    from app.curation.draft import draft_document

    text_path = Path(args.document)
    if text_path.suffix != ".txt" or not text_path.is_file():
        print(f"draft: {text_path} is not a document text (seed/documents/<slug>.txt)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = draft_document(text_path, seed_dir=Path(args.seed_dir) if args.seed_dir else None)
    seconds = time.perf_counter() - started
    if result.metadata_written:
        print(f"wrote {result.metadata_written} (title, language, added: check them)")
    proposals = sum(count for name, count in result.counts.items() if name != "sentences")
    listed = ", ".join(f"{count} {name}" for name, count in result.counts.items() if count and name != "sentences")
    print(
        f"wrote {result.path}: {result.counts['sentences']} sentences, {proposals} proposals ({listed}); {seconds:.2f} s"
    )
    print("every proposal says `review: pending`: check each against the text, then run `python -m app seed --check`")
    return 0


def _seed_synthetic(args: argparse.Namespace) -> int:
    from app.tools.synthetic import SyntheticRefused, seed_synthetic

    url = args.database_url or get_settings().database_url

    def progress(message: str) -> None:
        if args.verbose:
            print(f"  {message}", file=sys.stderr, flush=True)

    try:
        report = asyncio.run(seed_synthetic(url, args.synthetic, reset=args.reset, progress=progress))
    except SyntheticRefused as refusal:
        print(f"synthetic seed refused, nothing was written: {refusal}", file=sys.stderr)
        return 1
    print(report.table())
    print(f"{args.synthetic:,} synthetic organizations written; data version {report.data_version}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    host, port = args.host or settings.host, args.port or settings.port
    if args.reload:
        import uvicorn

        uvicorn.run(
            "app.http.app:app",
            host=host,
            port=port,
            reload=True,
            log_level=settings.log_level,
            loop="uvloop",
            http="app.http.head_limits:LimitedHttpToolsProtocol",
            access_log=False,
        )
        return 0
    from app.http.serving import serve

    serve(settings, host=host, port=port, workers=args.workers or settings.workers)
    return 0


def _bench_options(args: argparse.Namespace, **extra: Any) -> Options:
    """The bench's options from the command line; `extra` for the side-by-side mode's own."""
    from app.tools.bench import MODES, Options

    return Options(
        database_url=args.database_url or get_settings().database_url,
        workers=args.workers,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        queries=args.queries.split(",") if args.queries else None,
        modes=tuple(MODES) if args.mode == "both" else (args.mode,),
        json_path=Path(args.json) if args.json else None,
        **extra,
    )


def _bench(args: argparse.Namespace) -> int:
    from app.tools.bench import benchmark, table

    if args.compare:
        return _bench_compare(args)

    options = _bench_options(args)
    # The server runs in its own session: on SIGTERM, unwind so that it is stopped too.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(128 + signal.SIGTERM))
    try:
        report = benchmark(options, say=lambda line: print(line, file=sys.stderr, flush=True))
    except RuntimeError as problem:
        print(f"bench failed: {problem}", file=sys.stderr)
        return 1
    print(table(report))
    print(f"\nreport written to {report['path']}")
    failed = [q["name"] for run in report["runs"] for q in run["queries"] if q["error"]]
    return 1 if failed else 0


def _bench_compare(args: argparse.Namespace) -> int:
    from app.tools.bench_compare import compare

    options = _bench_options(
        args,
        compare=args.compare,
        rounds=args.rounds,
        single_connection=args.single_connection,
        sqlite_url=args.sqlite,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
    )
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(128 + signal.SIGTERM))
    try:
        report = compare(options, say=lambda line: print(line, file=sys.stderr, flush=True))
    except RuntimeError as problem:
        print(f"bench failed: {problem}", file=sys.stderr)
        return 1
    print(report["markdown"])
    print(f"\nreport written to {report['path']} ({report['seconds']:.0f} s)")
    failed = [entry for entry in report["entries"] if entry["error"]]
    return 1 if failed else 0


def _export_schema(_args: argparse.Namespace) -> int:
    from app.execution.executable import schema

    sys.stdout.write(schema.as_str() + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    migrate = commands.add_parser("migrate", help="upgrade the database to the newest migration")
    migrate.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    migrate.add_argument("--database-url", help="overrides DATABASE_URL")
    migrate.set_defaults(handler=_migrate)

    seed = commands.add_parser("seed", help="load every document and its facts under seed/")
    seed.add_argument("--check", action="store_true", help="validate the files; write nothing")
    seed.add_argument(
        "--coverage", action="store_true", help="validate, then print each document's coverage; write nothing"
    )
    seed.add_argument(
        "--allow-uncited", action="store_true", help="with --check: do not fail (exit 4) on uncited sentences"
    )
    seed.add_argument("--reset", action="store_true", help="delete everything, then load from scratch")
    seed.add_argument("--database-url", help="overrides DATABASE_URL")
    seed.add_argument("--seed-dir", help="folder to load (default: seed/)")
    seed.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="instead of seed/, write N synthetic organizations with proportional facts (benchmarks)",
    )
    seed.add_argument("-v", "--verbose", action="store_true", help="print progress")
    seed.set_defaults(handler=_seed)

    draft = commands.add_parser("draft", help="propose facts for a new document: writes seed/<slug>.draft.yaml")
    draft.add_argument("document", help="the document's text: seed/documents/<slug>.txt")
    draft.add_argument("--seed-dir", help="the knowledge base's seed folder (default: the document's folder's parent)")
    draft.set_defaults(handler=_draft)

    serve = commands.add_parser("serve", help="serve the API: gunicorn with uvicorn workers")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    serve.set_defaults(handler=_serve)

    export = commands.add_parser("export-schema", help="print the schema's SDL")
    export.set_defaults(handler=_export_schema)

    bench = commands.add_parser("bench", help="serve a database and load it with wrk: req/s, latency, SQL per query")
    bench.add_argument("--database-url", help="overrides DATABASE_URL")
    bench.add_argument("--workers", type=int, default=2, help="server worker processes (default: 2)")
    bench.add_argument("--duration", type=int, default=5, help="seconds of load per query (default: 5)")
    bench.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load before each (default: 1)")
    bench.add_argument("--connections", type=int, default=16, help="concurrent connections (default: 16)")
    bench.add_argument("--threads", type=int, default=2, help="wrk threads (default: 2)")
    bench.add_argument("--queries", help="comma-separated subset of the mix (typename always runs)")
    bench.add_argument(
        "--mode", choices=("cold", "warm", "both"), default="both", help="result cache off, on, or both runs"
    )
    bench.add_argument("--json", help="report path (default: artifacts/bench-<engine>-<db>-<time>.json)")
    bench.add_argument(
        "--compare",
        choices=("postgraphile",),
        help="side by side with PostGraphile 5 and 4 on the same PostgreSQL database (npm installs them);"
        " measures typename and reference, prints a markdown table",
    )
    bench.add_argument("--rounds", type=int, default=2, help="--compare: interleaved rounds (default: 2)")
    bench.add_argument(
        "--single-connection",
        type=int,
        default=2,
        metavar="SECONDS",
        help="--compare: seconds of one-connection load after each run, for its p50 (default: 2; 0: none)",
    )
    bench.add_argument(
        "--sqlite", metavar="URL", help="--compare: also ours cold on this SQLite database (the same data)"
    )
    bench.add_argument(
        "--cache-dir", help="--compare: where npm installs PostGraphile (default: ~/.cache/kb/postgraphile)"
    )
    bench.set_defaults(handler=_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
