#!/usr/bin/env bash
# The README's side-by-side figures in one command: ours against PostGraphile 5 and 4
# (`python -m app bench --compare postgraphile`) on the curated seed and on 10,000 synthetic
# organizations, PostgreSQL, with ours also on SQLite holding the same data. Prints one markdown
# document (and keeps the JSON reports in artifacts/).
#
# Databases are created, migrated and seeded when missing: the first run spends about 6 minutes
# seeding 10,000 organizations (PostgreSQL and SQLite). Then each database takes
# ROUNDS x (16 runs x (WARMUP + DURATION + SINGLE) + 6 servers x 4 s) (3 queries on ours cold,
# warm, on SQLite, PostGraphile 5 and 4; the bare ASGI app answers one): 7.5 minutes with the
# defaults (3 rounds, 1 + 5 + 2 s), so about 15 minutes for both.
#
#   scripts/compare_postgraphile.sh                      # defaults
#   ROUNDS=5 DURATION=10 scripts/compare_postgraphile.sh  # longer, steadier
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
SERVER=${PG_SERVER:-postgresql://postgres@127.0.0.1:5432}
DATA=${DATA_DIR:-$HOME/.cache/kb/bench}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
SINGLE=${SINGLE:-2}
mkdir -p "$DATA" artifacts

organizations() {  # how many organizations a database holds (0 when it has none, or no tables)
  "$PYTHON" - "$1" <<'EOF' 2>/dev/null || echo 0
import asyncio, sys
from app.tools.bench import describe_dataset
print(asyncio.run(describe_dataset(sys.argv[1])).organizations)
EOF
}

prepare() {  # prepare URL SIZE: migrate, and seed (curated when SIZE is "seed", else synthetic) when empty
  local url=$1 size=$2
  "$PYTHON" -m app migrate --database-url "$url" > /dev/null
  if [ "$size" = seed ]; then
    "$PYTHON" -m app seed --database-url "$url" > /dev/null
  elif [ "$(organizations "$url")" != "$size" ]; then
    echo "seeding $size synthetic organizations into $url (minutes)" >&2
    "$PYTHON" -m app seed --synthetic "$size" --reset --database-url "$url" > /dev/null
  fi
}

for name in kb_compare_seed kb_compare_10000; do
  createdb -h 127.0.0.1 -U postgres "$name" 2> /dev/null || true
done
prepare "$SERVER/kb_compare_seed" seed
prepare "sqlite:///$DATA/kb-seed.sqlite3" seed
prepare "$SERVER/kb_compare_10000" 10000
prepare "sqlite:///$DATA/kb-10000.sqlite3" 10000

started=$(date +%s)
for pair in "kb_compare_seed kb-seed" "kb_compare_10000 kb-10000"; do
  set -- $pair
  echo
  echo "#### $( [ "$1" = kb_compare_seed ] && echo 'Curated seed' || echo '10,000 synthetic organizations' )"
  echo
  "$PYTHON" -m app bench --compare postgraphile --database-url "$SERVER/$1" --sqlite "sqlite:///$DATA/$2.sqlite3" \
    --rounds "$ROUNDS" --duration "$DURATION" --warmup "$WARMUP" --single-connection "$SINGLE" \
    | sed '/^report written to/d' || echo "(this run reported an error: see above)"
done
echo
echo "(both runs: $(( $(date +%s) - started )) s)"
