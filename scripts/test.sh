#!/usr/bin/env bash
# scripts/test.sh: every test suite of streamext on a fresh Debian bookworm
# machine, as root: installs what it needs, builds, installs, then runs the
# pg_regress suite and the TAP suite as the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

install_deps python3-psycopg2 postgresql-15-hll postgresql-15-tdigest
build_install

work=$(mktemp -d /tmp/streamext-test.XXXXXX)
cp -r Makefile src sql expected specs test examples README.md "$work/"
chown -R postgres "$work"
trap 'stop_cluster "$work/server"; chown -R root "$work" 2>/dev/null || true' EXIT

echo "== user-code gate"
bash scripts/check_usercode_gate.sh

echo "== module graph: no cycle, no call to a layer above, no unprefixed export"
python3 scripts/depgraph.py --check | grep -E "^cycle|layer" || true
python3 scripts/depgraph.py --check >/dev/null
python3 scripts/depgraph.py --exports

# make installcheck, as a packager runs it: a started server with
# test/regress.conf; each part on its own, so that one failing does not
# hide the others
mapfile -t conf < <(grep -v '^#' test/regress.conf | grep .)
start_cluster "$work/server" 58432 "${conf[@]}"
installcheck() {
  (cd "$work" && timeout 1500 runuser -u postgres -- env PGHOST="$work/server" PGPORT=58432 \
     make -s installcheck PG_CONFIG=/usr/bin/pg_config bindir="$PGBIN" "$@")
}

echo "== pg_regress and isolation specs (make installcheck)"
status=0
installcheck TAP_TESTS= || status=$?
if [ "$status" -ne 0 ]; then
  cat "$work/regression.diffs" "$work/output_iso/regression.diffs" 2>/dev/null | head -200
fi

echo "== TAP (make installcheck)"
tap_status=0
installcheck REGRESS= ISOLATION= PROVE_FLAGS="${PROVE_FLAGS:-}" 2>&1 | tee "$work/tap.out" ||
  tap_status=$?
if [ "$tap_status" -ne 0 ]; then
  # the logs of the failing tests only, then prove's summary again, last,
  # so that a truncated CI log still names what failed
  mapfile -t failed < <(sed -n 's|^test/t/\([^ ]*\)\.pl  *(Wstat.*|\1|p' "$work/tap.out")
  for t in "${failed[@]}"; do
    for f in "$work/tmp_check/log/regress_log_$t" "$work/tmp_check/log/${t}"_*.log; do
      [ -f "$f" ] && { echo "---- $f"; tail -80 "$f"; }
    done
  done
  echo "== TAP failed:"
  sed -n '/^Test Summary Report/,$p' "$work/tap.out"
  grep -h -E "^\[[0-9:.]+\]\([0-9.]+s\) not ok" "$work"/tmp_check/log/regress_log_* | grep -v "# TODO" || true
fi
stop_cluster "$work/server"

# a server process that died of a signal other than the tests' own kill -9
# is a crash, whatever the tests asserted
crash_status=0
if grep -lE "terminated by signal (4|6|7|8|11)[^0-9]" "$work"/server/server.log "$work"/tmp_check/log/*.log 2>/dev/null; then
  echo "== a server process crashed (see the logs above)"
  crash_status=1
fi

[ "$status" -eq 0 ] && [ "$tap_status" -eq 0 ] && [ "$crash_status" -eq 0 ]
