# scripts/common.sh: shared steps of the demo, test and bench scripts.
# Sourced, not run.  Everything runs as root; clusters run as postgres.

PGBIN=/usr/lib/postgresql/15/bin
PGXS_DIR=/usr/lib/postgresql/15/lib/pgxs

# install_deps [package...] installs, from Debian's packages, what building and
# testing needs, and the packages named
install_deps() {
  local need=()
  for pkg in postgresql-15 postgresql-server-dev-15 postgresql-contrib libipc-run-perl make gcc "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    echo "== installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# build_install builds the extension and installs it system-wide
build_install() {
  make -s PG_CONFIG=/usr/bin/pg_config >/dev/null
  make -s PG_CONFIG=/usr/bin/pg_config install >/dev/null
}

# start_cluster DIR PORT [extra config lines]: a throwaway cluster owned by postgres
start_cluster() {
  local dir=$1 port=$2
  shift 2
  rm -rf "$dir"
  mkdir -p "$dir"
  chown postgres "$dir"
  runuser -u postgres -- "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  cat >>"$dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'streamext'
wal_level = logical
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
max_worker_processes = 16
fsync = off
CONF
  for line in "$@"; do echo "$line" >>"$dir/data/postgresql.conf"; done
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
}

stop_cluster() {
  local dir=$1
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# install_private ROOT builds the extension and installs it into a private
# copy of PostgreSQL 15 under ROOT (the server finds its files relative to
# its binary), then points PGBIN there: another worktree's `make install`
# cannot swap the extension under a long benchmark
install_private() {
  local root=$1
  make -s PG_CONFIG=/usr/bin/pg_config >/dev/null
  rm -rf "$root"
  mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
  cp -a /usr/lib/postgresql/15 "$root/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
  make -s PG_CONFIG=/usr/bin/pg_config install DESTDIR="$root" >/dev/null
  PGBIN=$root/usr/lib/postgresql/15/bin
}
