"""Command line: python -m app migrate | seed | draft | serve | export-schema | bench.

Each subcommand is two functions: `_add_<name>(commands)` declares it (every option with its help and default),
and `_<name>(args)` runs it and returns the exit status. A new subcommand adds both and one line to
`build_parser`. Work that takes more than a few seconds shows a progress bar on stderr (app/progress.py),
only when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import DEFAULT_DATABASE_URL, PROJECT_ROOT, SEED_DIR, Settings, get_settings
from app.progress import progress

if TYPE_CHECKING:
    from app.tools.bench import Options


def _setting(name: str, value: object) -> str:
    """How an option's help names its default: the setting, else the setting's own default."""
    return f"default: the {name} setting, else {_shown(value)}"


def _shown(value: object) -> str:
    text = str(value)
    return text.replace(str(PROJECT_ROOT) + "/", "") if str(PROJECT_ROOT) in text else text


DATABASE_HELP = (
    "SQLAlchemy URL of the database, sqlite:///PATH or postgresql://… ("
    + _setting("DATABASE_URL", DEFAULT_DATABASE_URL)
    + ")"
)


def _this_command() -> str:
    """How the person ran this command line (".venv/bin/python -m app"), for the next command it suggests."""
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):  # elsewhere than under the working folder: the full path
        python = python.relative_to(Path.cwd())
    return f"{python} -m app"


def _database_url(args: argparse.Namespace) -> str:
    return str(args.database_url or get_settings().database_url)


# -- migrate -----------------------------------------------------------------------------------------------


def _add_migrate(commands: Any) -> None:
    migrate = commands.add_parser(
        "migrate", help="upgrade the database to the newest migration (or to REVISION)", description=_migrate.__doc__
    )
    migrate.add_argument(
        "revision", nargs="?", default="head", help="target revision; -1 or base go down (default: head)"
    )
    migrate.add_argument("--database-url", metavar="URL", help=DATABASE_HELP)
    migrate.set_defaults(handler=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    """Upgrade (or downgrade) the database's tables with Alembic; an empty database is created."""
    from app.data.migrations import downgrade, upgrade
    from app.data.reachability import check_sqlite_path

    url = _database_url(args)
    check_sqlite_path(url)
    started = time.perf_counter()
    if args.revision.startswith("-") or args.revision == "base":
        downgrade(url, args.revision)
    else:
        upgrade(url, args.revision)
    print(f"migrated to {args.revision} in {time.perf_counter() - started:.2f} s")
    return 0


# -- seed --------------------------------------------------------------------------------------------------


def _add_seed(commands: Any) -> None:
    seed = commands.add_parser(
        "seed", help="load every document and its facts from the seed folder", description=_seed.__doc__
    )
    seed.add_argument("--check", action="store_true", help="validate the files and write nothing (exit 3: conflicts)")
    seed.add_argument(
        "--coverage", action="store_true", help="validate, then print each document's coverage; write nothing"
    )
    seed.add_argument(
        "--allow-uncited", action="store_true", help="with --check: do not fail (exit 4) on uncited sentences"
    )
    seed.add_argument("--reset", action="store_true", help="delete everything, then load from scratch")
    seed.add_argument("--database-url", metavar="URL", help=DATABASE_HELP)
    seed.add_argument("--seed-dir", metavar="FOLDER", help="folder to load (" + _setting("SEED_DIR", SEED_DIR) + ")")
    seed.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="instead of the seed folder, write N synthetic organizations with proportional facts, for benchmarks"
        " (default: off)",
    )
    seed.add_argument("-v", "--verbose", action="store_true", help="print each step as a line")
    seed.set_defaults(handler=_seed)


def _seed(args: argparse.Namespace) -> int:
    """Validate every seed file, then write the knowledge base in one transaction (a second run changes nothing)."""
    from app.seeding import SeedFailed, seed, validate

    if args.synthetic is not None:
        return _seed_synthetic(args)
    settings = get_settings()
    url = args.database_url or settings.database_url
    seed_dir = Path(args.seed_dir or settings.seed_dir)

    def step(message: str) -> None:
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
        from app.data.reachability import check_sqlite_path

        check_sqlite_path(url)
        outcome = asyncio.run(seed(url, seed_dir, reset=args.reset, progress=step))
    except SeedFailed as failure:
        print(f"seed failed, nothing was written ({len(failure.errors)} error(s)):", file=sys.stderr)
        for error in failure.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    report = outcome.report
    assert report is not None
    print(report.table())
    _print_changes(report.changes, args.verbose)
    verdict = "changes written" if report.changed else "nothing changed"
    print(f"{verdict}; data version {report.data_version}; {outcome.seconds:.2f} s")
    if outcome.conflicts:
        _print_conflicts(outcome.conflicts, "warning: conflict")
    return 0


CHANGES_SHOWN = 40


def _print_changes(changes: Sequence[Any], verbose: bool) -> None:
    """The release's changes, one line each, as the API's `changes` lists them (the first 40 unless verbose)."""
    if not changes:
        return
    print(f"{len(changes)} record(s) changed in this release (Query.changes lists them):")
    shown = changes if verbose else changes[:CHANGES_SHOWN]
    for change in shown:
        print(f"  {change.line()}")
    if len(shown) < len(changes):
        print(f"  ... and {len(changes) - len(shown)} more (`seed -v` prints them all)")


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


def _seed_synthetic(args: argparse.Namespace) -> int:
    from app.tools.synthetic import SyntheticRefused, seed_synthetic

    url = _database_url(args)
    try:
        with progress("synthetic seed", args.synthetic, "organizations", verbose=args.verbose) as bar:
            report = asyncio.run(
                seed_synthetic(url, args.synthetic, reset=args.reset, progress=bar.stage, advance=bar.advance)
            )
    except SyntheticRefused as refusal:
        print(f"synthetic seed refused, nothing was written: {refusal}", file=sys.stderr)
        return 1
    print(report.table())
    print(f"{args.synthetic:,} synthetic organizations written; data version {report.data_version}")
    return 0


# -- draft -------------------------------------------------------------------------------------------------


def _add_draft(commands: Any) -> None:
    draft = commands.add_parser(
        "draft", help="propose facts for a new document: writes seed/<slug>.draft.yaml", description=_draft.__doc__
    )
    draft.add_argument("document", help="the document's text, seed/documents/<slug>.txt (required)")
    draft.add_argument(
        "--seed-dir",
        metavar="FOLDER",
        help="the knowledge base's seed folder (default: the folder above the document's documents/ folder)",
    )
    draft.set_defaults(handler=_draft)


def _draft(args: argparse.Namespace) -> int:
    """Read a document's text and the knowledge base, and write the facts it seems to state, each pending review."""
    from app.curation.draft import DraftRefused, draft_document

    text_path = Path(args.document)
    if not text_path.exists():
        print(
            f"draft: {text_path} does not exist; give the document's text, seed/documents/<slug>.txt", file=sys.stderr
        )
        return 2
    if text_path.suffix != ".txt" or not text_path.is_file():
        print(f"draft: {text_path} is not a document's text (seed/documents/<slug>.txt)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        with progress("draft", None, "sentences") as bar:
            result = draft_document(
                text_path,
                seed_dir=Path(args.seed_dir) if args.seed_dir else None,
                started=bar.start,
                advance=bar.advance,
            )
    except DraftRefused as refusal:
        print(f"draft failed, nothing was written: {refusal}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    if result.metadata_written:
        print(f"wrote {result.metadata_written} (title, language, added: check them)")
    proposals = sum(count for name, count in result.counts.items() if name != "sentences")
    listed = ", ".join(f"{count} {name}" for name, count in result.counts.items() if count and name != "sentences")
    print(
        f"wrote {result.path}: {result.counts['sentences']} sentences, {proposals} proposals ({listed}); {seconds:.2f} s"
    )
    print(
        f"every proposal says `review: pending`: check each against the text, then run `{_this_command()} seed --check`"
    )
    return 0


# -- serve -------------------------------------------------------------------------------------------------


def _add_serve(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="serve the API: gunicorn with uvicorn workers", description=_serve.__doc__
    )
    fields = Settings.model_fields
    serve.add_argument(
        "--host", metavar="ADDRESS", help="address to listen on (" + _setting("HOST", fields["host"].default) + ")"
    )
    serve.add_argument("--port", type=int, help="port to listen on (" + _setting("PORT", fields["port"].default) + ")")
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes (" + _setting("WORKERS", fields["workers"].default) + ")",
    )
    serve.add_argument("--database-url", metavar="URL", help=DATABASE_HELP)
    serve.add_argument(
        "--reload", action="store_true", help="one process that restarts on code changes, for development"
    )
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    """Serve /graphql, GraphiQL and the landing page until SIGTERM or Ctrl-C; JSON log lines on stderr."""
    if args.database_url:
        # The workers (forked by gunicorn, or started anew by --reload) read their settings themselves.
        os.environ["DATABASE_URL"] = args.database_url
        get_settings.cache_clear()
    settings = get_settings()
    host, port = args.host or settings.host, args.port or settings.port
    from app.http.serving import PortUnavailable, check_port

    try:
        check_port(host, port)
    except PortUnavailable as problem:
        print(f"serve: {problem}", file=sys.stderr)
        return 1
    from app.http.trusted_documents import TrustedDocumentsError, check_trusted_documents

    try:
        check_trusted_documents(settings)  # here, not in each worker: one line, not a worker that fails to boot
    except TrustedDocumentsError as problem:
        print(f"serve: {problem}", file=sys.stderr)
        return 1
    from app.data.reachability import DatabaseUnreachable, probe

    try:
        asyncio.run(probe(settings.serving_database_url))  # here: one clear line, not workers answering 503 to everyone
    except DatabaseUnreachable as problem:
        print(f"serve: {problem}", file=sys.stderr)
        return 1
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
            proxy_headers=False,  # X-Forwarded-For only through TRUSTED_PROXIES (app.http.budgets)
        )
        return 0
    from app.http.serving import serve

    serve(settings, host=host, port=port, workers=args.workers or settings.workers)
    return 0


# -- export-schema -----------------------------------------------------------------------------------------


def _add_export_schema(commands: Any) -> None:
    export = commands.add_parser(
        "export-schema",
        help="print the schema's SDL (the committed schema.graphql)",
        description=_export_schema.__doc__,
    )
    export.set_defaults(handler=_export_schema)


def _export_schema(_args: argparse.Namespace) -> int:
    """Print the GraphQL schema as SDL on stdout: `> schema.graphql` refreshes the committed file."""
    from app.execution.executable import schema

    sys.stdout.write(schema.as_str() + "\n")
    return 0


# -- export ----------------------------------------------------------------------------------------------


def _add_export(commands: Any) -> None:
    export = commands.add_parser(
        "export",
        help="write the whole knowledge base to one JSON Lines file or a folder of CSV files",
        description=_export.__doc__,
    )
    export.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        default="jsonl",
        help="jsonl: one JSON object a line (default); csv: one file per type and citations.csv",
    )
    export.add_argument(
        "--out",
        required=True,
        help="jsonl: the file to write ('-' for stdout; a name ending in .gz is gzipped); csv: the folder "
        "(made if missing); no default: required",
    )
    export.add_argument("--database-url", metavar="URL", help=DATABASE_HELP)
    export.add_argument("-v", "--verbose", action="store_true", help="print each step as a line")
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    """Write every record of the current release, read in one snapshot: JSON Lines (one object a line: type, id,
    slug, the type's fields as the API serves them, references as slugs, citations [{document, quote, start,
    end}]) or CSV (one file per type plus citations.csv). Progress on stderr."""
    import gzip
    import time

    from app.data.export import export, write_csv, write_jsonl

    url = _database_url(args)
    started = time.perf_counter()
    with progress("export", None, "records", verbose=args.verbose) as bar:
        if args.format == "csv":
            folder = Path(args.out)
            report = asyncio.run(export(url, lambda conn: write_csv(conn, folder, bar.advance), bar.start))
        elif args.out == "-":
            report = asyncio.run(export(url, lambda conn: write_jsonl(conn, sys.stdout.buffer, bar.advance), bar.start))
        else:
            target = Path(args.out)
            target.parent.mkdir(parents=True, exist_ok=True)
            opener: Any = gzip.open if target.suffix == ".gz" else open
            with opener(target, "wb") as out:
                report = asyncio.run(export(url, lambda conn: write_jsonl(conn, out, bar.advance), bar.start))
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in Path(args.out).glob("*.csv")) if args.format == "csv" else None
    if args.out != "-" and args.format == "jsonl":
        size = Path(args.out).stat().st_size
    counts = ", ".join(f"{count} {name}" for name, count in report.counts.items())
    print(
        f"exported data version {report.version}: {counts}; {report.citations} citations; "
        f"{size if size is not None else report.bytes:,} bytes in {seconds:.2f} s",
        file=sys.stderr,
    )
    return 0


# -- bench -------------------------------------------------------------------------------------------------


def _add_bench(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="serve a database and load it with wrk: req/s, latency, SQL per query",
        description=_bench.__doc__,
    )
    bench.add_argument("--database-url", metavar="URL", help=DATABASE_HELP)
    bench.add_argument("--workers", type=int, default=2, metavar="N", help="server worker processes (default: 2)")
    bench.add_argument("--duration", type=int, default=5, metavar="SECONDS", help="load per query (default: 5)")
    bench.add_argument(
        "--warmup", type=int, default=1, metavar="SECONDS", help="unmeasured load before each (default: 1)"
    )
    bench.add_argument("--connections", type=int, default=16, metavar="N", help="concurrent connections (default: 16)")
    bench.add_argument("--threads", type=int, default=2, metavar="N", help="wrk threads (default: 2)")
    bench.add_argument(
        "--queries", metavar="NAMES", help="comma-separated subset of the mix; typename always runs (default: all)"
    )
    bench.add_argument(
        "--mode",
        choices=("cold", "warm", "both"),
        default="both",
        help="result cache off (cold), on (warm), or a run of each (default: both)",
    )
    bench.add_argument(
        "--json", metavar="PATH", help="report path (default: artifacts/bench-<engine>-<db>-<time>.json)"
    )
    bench.add_argument(
        "--compare",
        choices=("postgraphile",),
        help="side by side with PostGraphile 5 and 4 on the same PostgreSQL database (npm installs them);"
        " measures typename and reference, prints a markdown table (default: off)",
    )
    bench.add_argument(
        "--rounds", type=int, default=2, metavar="N", help="with --compare: interleaved rounds (default: 2)"
    )
    bench.add_argument(
        "--single-connection",
        type=int,
        default=2,
        metavar="SECONDS",
        help="with --compare: one-connection load after each run, for its p50; 0: none (default: 2)",
    )
    bench.add_argument(
        "--sqlite",
        metavar="URL",
        help="with --compare: also ours cold on this SQLite database holding the same data (default: none)",
    )
    bench.add_argument(
        "--cache-dir",
        metavar="FOLDER",
        help="with --compare: where npm installs PostGraphile (default: ~/.cache/kb/postgraphile)",
    )
    bench.set_defaults(handler=_bench)


def _bench_options(args: argparse.Namespace, **extra: Any) -> Options:
    """The bench's options from the command line; `extra` for the side-by-side mode's own."""
    from app.tools.bench import MODES, Options

    return Options(
        database_url=_database_url(args),
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
    """Start `serve` on a free port and load each query of the mix with wrk, with the result cache off and on."""
    from app.tools.bench import benchmark, table

    if args.compare:
        return _bench_compare(args)

    options = _bench_options(args)
    # The server runs in its own session: on SIGTERM, unwind so that it is stopped too.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(128 + signal.SIGTERM))
    try:
        with progress("bench", None, "queries") as bar:
            report = benchmark(options, say=bar.note, progress=bar)
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
        with progress("bench --compare", None, "runs") as bar:
            report = compare(options, say=bar.note, progress=bar)
    except RuntimeError as problem:
        print(f"bench failed: {problem}", file=sys.stderr)
        return 1
    print(report["markdown"])
    print(f"\nreport written to {report['path']} ({report['seconds']:.0f} s)")
    failed = [entry for entry in report["entries"] if entry["error"]]
    return 1 if failed else 0


# -- the parser --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command line: one `_add_<name>` per subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="The knowledge base's commands. Settings come from the environment or .env;"
        " `python -m app COMMAND --help` describes each command.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_migrate, _add_seed, _add_draft, _add_serve, _add_export_schema, _add_export, _add_bench):
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ModuleNotFoundError as missing:
        # `python -m app --help` needs little installed; the commands need the project's dependencies.
        if missing.name is None or missing.name.split(".")[0] == "app":
            raise
        print(
            f"python -m app {args.command}: the module {missing.name!r} is not installed for {sys.executable};"
            " run `make install`, then `.venv/bin/python -m app ...` (or activate .venv first)",
            file=sys.stderr,
        )
        return 1
    except Exception as error:
        unreachable = _database_problem(args, error)
        if unreachable is None:
            raise
        print(f"{args.command}: {unreachable}", file=sys.stderr)
        return 1


def _database_problem(args: argparse.Namespace, error: Exception) -> Exception | None:
    """A failure to reach the command's database, said in one or two lines (no traceback); None for anything else."""
    if not hasattr(args, "database_url"):
        return None
    from app.data.reachability import problem

    return problem(_database_url(args), error)


if __name__ == "__main__":
    sys.exit(main())
