# Sourced by scripts/test (and the setup of the local engines): one Python environment in the
# cache outside the clone, so a fresh clone reuses what an earlier one installed.

REELFORGE_CACHE=${REELFORGE_CACHE:-$HOME/.cache/reelforge}
export REELFORGE_CACHE
REELFORGE_VENV="$REELFORGE_CACHE/venv"

reelforge_venv() {
  if [ ! -x "$REELFORGE_VENV/bin/python" ]; then
    command -v python3 >/dev/null 2>&1 || reelforge_apt python3
    python3 -m venv "$REELFORGE_VENV" 2>/dev/null || {
      reelforge_apt python3-venv
      python3 -m venv "$REELFORGE_VENV"
    }
  fi
}

# reelforge_pip <command that must exist in the venv> <pip requirement>...: installs the
# requirements unless the command is there already.
reelforge_pip() {
  local command=$1
  shift
  reelforge_venv
  [ -x "$REELFORGE_VENV/bin/$command" ] && return 0
  echo "installing $* into $REELFORGE_VENV" >&2
  "$REELFORGE_VENV/bin/pip" install -q --disable-pip-version-check "$@"
}
