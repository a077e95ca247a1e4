#!/usr/bin/env bash
# scripts/test.sh: every test suite of streamext on a fresh Debian bookworm
# machine, as root: installs what it needs, builds, installs, then runs the
# pg_regress suite and the TAP suite as the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

install_deps python3-psycopg2
build_install

work=$(mktemp -d /tmp/streamext-test.XXXXXX)
cp -r sql expected test examples README.md "$work/"
chown -R postgres "$work"
trap 'chown -R root "$work" 2>/dev/null || true' EXIT

echo "== user-code gate"
bash scripts/check_usercode_gate.sh

echo "== module graph: no cycle, no call to a layer above, no unprefixed export"
python3 scripts/depgraph.py --check | grep -E "^cycle|layer" || true
python3 scripts/depgraph.py --check >/dev/null
python3 scripts/depgraph.py --exports

echo "== pg_regress"
status=0
(cd "$work" && runuser -u postgres -- "$PGXS_DIR/src/test/regress/pg_regress" \
   --bindir="$PGBIN" --inputdir=. --outputdir="$work/regress" \
   --temp-instance="$work/regress/instance" --temp-config=test/regress.conf \
   --dbname=contrib_regression --port=58432 \
   streams views windows calendar_windows errors subscriptions privileges retention nulls stream_kinds determinism) || status=$?
if [ "$status" -ne 0 ]; then
  cat "$work/regress/regression.diffs" 2>/dev/null | head -200
fi

echo "== TAP"
tap_status=0
(cd "$work" && timeout 1500 runuser -u postgres -- env \
   PATH="$PGBIN:$PATH" TESTDIR="$work" PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
   PERL5LIB="$PGXS_DIR/src/test/perl:$work/test" \
   prove ${PROVE_FLAGS:-} --ext=.pl test/t/) || tap_status=$?
if [ "$tap_status" -ne 0 ]; then
  for f in "$work"/tmp_check/log/*; do echo "---- $f"; tail -50 "$f"; done
fi

# a server process that died of a signal other than the tests' own kill -9
# is a crash, whatever the tests asserted
crash_status=0
if grep -lE "terminated by signal (4|6|7|8|11)[^0-9]" "$work"/regress/log/*.log "$work"/tmp_check/log/*.log 2>/dev/null; then
  echo "== a server process crashed (see the logs above)"
  crash_status=1
fi

[ "$status" -eq 0 ] && [ "$tap_status" -eq 0 ] && [ "$crash_status" -eq 0 ]
