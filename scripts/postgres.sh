# Sourced by scripts/test and scripts/demo: makes sure a PostgreSQL answers and exports
# DATABASE_URL pointing at its server. Uses DATABASE_URL when it already works; otherwise tries
# the local default; otherwise installs (Debian) and starts a local cluster with a password.

reelforge_can_connect() {
  command -v psql >/dev/null 2>&1 && psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
}

reelforge_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

reelforge_apt() {
  if [ -z "${REELFORGE_APT_UPDATED:-}" ]; then
    reelforge_as_root apt-get update -qq
    export REELFORGE_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive reelforge_as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

reelforge_ensure_postgres() {
  command -v psql >/dev/null 2>&1 || reelforge_apt postgresql-client
  if [ -n "${DATABASE_URL:-}" ] && reelforge_can_connect "$DATABASE_URL"; then
    return 0
  fi
  local default_url="postgres://postgres@127.0.0.1:5432/postgres"
  local password_url="postgres://postgres:reelforge@127.0.0.1:5432/postgres"
  for url in "$default_url" "$password_url"; do
    if reelforge_can_connect "$url"; then
      export DATABASE_URL="$url"
      return 0
    fi
  done
  echo "no PostgreSQL answers; starting a local one" >&2
  command -v pg_ctlcluster >/dev/null 2>&1 || reelforge_apt postgresql
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    reelforge_as_root pg_createcluster "$version" main >/dev/null
  fi
  reelforge_as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  for _ in $(seq 1 30); do
    reelforge_as_root su postgres -c "psql -Atqc 'SELECT 1'" >/dev/null 2>&1 && break
    sleep 1
  done
  reelforge_as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'reelforge'\"" >/dev/null
  if reelforge_can_connect "$password_url"; then
    export DATABASE_URL="$password_url"
  elif reelforge_can_connect "$default_url"; then
    export DATABASE_URL="$default_url"
  else
    echo "PostgreSQL was started but does not accept connections on 127.0.0.1:5432" >&2
    return 1
  fi
}
