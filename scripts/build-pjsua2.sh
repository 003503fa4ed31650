#!/usr/bin/env bash
# Give the virtual environment a pjsua2 that holds 256 calls per process.
#
#   bash scripts/build-pjsua2.sh .venv/bin/python
#
# The PyPI wheel `pjsua2-python` is compiled with pjsua.h's default of 4 calls per
# process, so a node needed 160 worker processes (7.7 GB) for 300 callers. This script
# builds a pjsua2 wheel with PJSUA_MAX_CALLS 256 from Debian's own sources (bookworm's
# `ring` source package carries a full pjproject 2.12.1 tree) and installs it in place of
# `pjsua2-python`. The build (about 3 minutes on 2 cores) runs once: the wheel is cached
# under $SWITCHBOARD_CACHE (default ~/.cache/switchboard), keyed by everything below that
# shapes it (config_site.h, configure flags, SWIG flags, the Python ABI and machine).
#
# When the build is impossible (no deb-src reachable, no compiler, a failed step), the
# venv keeps the 4-call PyPI wheel and one line says why; the reason is remembered for a
# day so that `make test` does not retry on every run. Knobs (environment):
#   SWITCHBOARD_PJSUA2=pypi       keep the PyPI wheel, do not build
#   SWITCHBOARD_PJSUA2_REBUILD=1  ignore a cached wheel or a remembered failure
#   SWITCHBOARD_PJSUA2_SSL=1      build with OpenSSL (SIP TLS, SRTP-DTLS); needs libssl-dev
#   SWITCHBOARD_CACHE=DIR         where wheels and build logs are kept
# The running code reads the limit from the module (`pjsua2.PJSUA_MAX_CALLS`, exported by
# this build); see docs/telephony.md.
set -euo pipefail

PY=${1:-.venv/bin/python}
MAX_CALLS=256
PYPI_PIN=$(sed -n 's/^ *"\(pjsua2-python==[^"]*\)".*/\1/p' "$(dirname "$0")/../pyproject.toml")
CACHE=${SWITCHBOARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchboard}
SSL=${SWITCHBOARD_PJSUA2_SSL:-0}

say() { echo "pjsua2: $*" >&2; }

# Telephone-event (RFC 2833 digits) on payload type 101, the one nearly every phone, PBX
# and trunk uses: a peer that answers our offer with its own 101 (not echoing ours, as
# RFC 3264 asks) and sends digits on it is heard. pjsip's default is 120.
# The answer takes our codec order, not the offerer's (pjsip's default): a desk phone that
# offers G.722 first (most do) is answered in G.711, which the 8 kHz bridge carries without
# resampling; a phone offering G.722 alone is answered in G.722, not refused.
CONFIG_SITE="#define PJSUA_MAX_CALLS $MAX_CALLS
#define PJSUA_MAX_CONF_PORTS (3*PJSUA_MAX_CALLS+16)
#define PJSUA_MAX_PLAYERS $MAX_CALLS
#define PJSUA_MAX_RECORDERS $MAX_CALLS
#define PJ_IOQUEUE_MAX_HANDLES 1024
#define PJMEDIA_HAS_VIDEO 0
#define PJMEDIA_RTP_PT_TELEPHONE_EVENTS 101
#define PJMEDIA_SDP_NEG_PREFER_REMOTE_CODEC_ORDER 0"
# Debian removed the gsm, ilbc, speex and g7221 sources from the tree: those codecs go.
CONFIGURE_FLAGS="--disable-shared --enable-epoll --disable-sound --disable-video
--disable-gsm-codec --disable-ilbc-codec --disable-speex-codec --disable-speex-aec
--disable-g7221-codec --disable-opus --disable-silk --disable-bcg729 --disable-libyuv
--disable-libwebrtc --disable-sdl --disable-ffmpeg --disable-v4l2 --disable-openh264
--disable-vpx --disable-opencore-amr"
if [ "$SSL" = 1 ]; then
  CONFIGURE_FLAGS="$CONFIGURE_FLAGS --with-ssl"
else
  CONFIGURE_FLAGS="$CONFIGURE_FLAGS --disable-ssl"
fi
# Without -threads, SWIG keeps the GIL during libHandleEvents and the asyncio side stalls.
SWIG_THREADS="-threads -DSWIG_NO_EXPORT_ITERATOR_METHODS"
RECIPE=4

installed_max_calls() {
  "$PY" -c 'import pjsua2; print(getattr(pjsua2, "PJSUA_MAX_CALLS", 4))' 2>/dev/null || echo none
}

use_pypi() {
  # The fallback: the PyPI wheel pinned in pyproject.toml, with its 4 calls per process.
  if "$PY" -m pip show -q pjsua2 >/dev/null 2>&1; then
    "$PY" -m pip uninstall -y -q pjsua2 >/dev/null
  fi
  if ! "$PY" -m pip show -q pjsua2-python >/dev/null 2>&1 || [ "$(installed_max_calls)" = none ]; then
    "$PY" -m pip install -q --force-reinstall --no-deps "$PYPI_PIN"
  fi
  say "using the PyPI wheel $PYPI_PIN: 4 calls per worker process (2 callers); $1"
}

[ -x "$PY" ] || { echo "usage: $0 VENV_PYTHON" >&2; exit 2; }
if [ "${SWITCHBOARD_PJSUA2:-}" = pypi ]; then
  use_pypi "SWITCHBOARD_PJSUA2=pypi"
  exit 0
fi

ABI=$("$PY" -c 'import sys, sysconfig; print(sys.implementation.cache_tag, sysconfig.get_platform())')
KEY=$(printf '%s\n' "$RECIPE" "$CONFIG_SITE" "$CONFIGURE_FLAGS" "$SWIG_THREADS" "$ABI" |
  sha256sum | cut -c1-16)
DIR="$CACHE/pjsua2-$MAX_CALLS-$KEY"
mkdir -p "$CACHE"

cached_wheel() { find "$DIR" -maxdepth 1 -name "pjsua2-*.whl" 2>/dev/null | head -n 1 || true; }

# Which build the venv holds (the key above): a change of config_site.h or the flags
# installs the new wheel, though the old one has as many calls.
MARK="$(dirname "$PY")/../.pjsua2-build"

install_wheel() {
  if [ "$(installed_max_calls)" = "$MAX_CALLS" ] && [ "$(cat "$MARK" 2>/dev/null)" = "$KEY" ] \
    && [ -z "${SWITCHBOARD_PJSUA2_REBUILD:-}" ]; then
    say "installed already ($MAX_CALLS calls per process)"
    return 0
  fi
  # Both distributions provide the module `pjsua2`; only one may stay.
  "$PY" -m pip uninstall -y -q pjsua2-python pjsua2 >/dev/null 2>&1 || true
  "$PY" -m pip install -q --no-deps --force-reinstall "$1"
  local got
  got=$(installed_max_calls)
  if [ "$got" != "$MAX_CALLS" ]; then
    use_pypi "the built wheel $1 did not import (PJSUA_MAX_CALLS: $got)"
    return 0
  fi
  echo "$KEY" >"$MARK"
  say "installed $(basename "$1"): $MAX_CALLS calls per worker process"
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

build_deps() {
  # The compilers and headers; installed from Debian when missing (needs root or sudo).
  local missing=()
  command -v swig >/dev/null || missing+=(swig)
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  [ -e /usr/include/uuid/uuid.h ] || missing+=(uuid-dev)
  if [ "$SSL" = 1 ] && [ ! -e /usr/include/openssl/ssl.h ]; then missing+=(libssl-dev); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing build packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
}

fetch_source() {
  # `apt-get source ring` with a private apt state: deb-src copies of this machine's own
  # Debian entries, lists and cache under $1; /etc/apt stays untouched.
  local work=$1 parts="$1/apt/sources.list.d"
  mkdir -p "$parts" "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -e "$file" ] && sed 's/^Types:.*$/Types: deb-src/' "$file" >"$parts/$(basename "$file")"
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$file" ] && sed -n 's/^deb \(.*\)$/deb-src \1/p' "$file" >"$parts/$(basename "$file")"
  done
  local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$parts"
    -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
    -o "APT::Sandbox::User=root" -qq)
  # A third-party entry without sources fails the update; Debian's lists are enough.
  apt-get "${opts[@]}" update || true
  (cd "$work/src" && apt-get "${opts[@]}" source --download-only ring)
}

build() {
  local work=$1 jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  build_deps
  fetch_source "$work"
  local orig
  orig=$(ls "$work"/src/ring_*.orig.tar.* | head -n 1)
  tar xf "$orig" -C "$work" --wildcards '*/daemon/contrib/tarballs-unpacked/pjproject-*'
  local tree
  tree=$(ls -d "$work"/*/daemon/contrib/tarballs-unpacked/*/pjproject-* | head -n 1)
  [ -d "$tree/pjsip-apps/src/swig/python" ] || { echo "no pjsua2 SWIG tree in $orig"; return 1; }
  echo "$CONFIG_SITE" >"$tree/pjlib/include/pj/config_site.h"
  # The limit travels with the module, so the code reads it rather than assume it.
  cat >>"$tree/pjsip-apps/src/swig/pjsua2.i" <<'SWIG'
%inline %{
int switchboard_max_calls() { return PJSUA_MAX_CALLS; }
%}
%pythoncode %{
PJSUA_MAX_CALLS = switchboard_max_calls()
%}
SWIG
  (
    cd "$tree"
    # shellcheck disable=SC2086
    CFLAGS="-O2 -fPIC" CXXFLAGS="-O2 -fPIC" ./configure $CONFIGURE_FLAGS
    make dep
    make -j"$jobs" lib
    cd pjsip-apps/src/swig/python
    make pjsua2_wrap.cpp USE_THREADS="$SWIG_THREADS"
  )
  # setup.py is distutils-era: build it with the target Python and setuptools + wheel.
  "$PY" -m venv "$work/venv"
  "$work/venv/bin/pip" install -q setuptools wheel
  mkdir -p "$work/wheel"
  (cd "$tree/pjsip-apps/src/swig/python" &&
    MAKEFLAGS= "$work/venv/bin/pip" wheel -q --no-build-isolation --no-deps -w "$work/wheel" .)
  mkdir -p "$DIR"
  mv "$work"/wheel/pjsua2-*.whl "$DIR/"
}

wheel=$(cached_wheel)
if [ -n "${SWITCHBOARD_PJSUA2_REBUILD:-}" ]; then
  rm -rf "$DIR"
  wheel=""
fi
if [ -z "$wheel" ]; then
  exec 9>"$CACHE/pjsua2-build.lock"
  flock 9 # one build at a time; a second caller finds the wheel when the first is done
  wheel=$(cached_wheel)
fi
if [ -z "$wheel" ]; then
  failed="$CACHE/pjsua2-$MAX_CALLS-$KEY.failed"
  if [ -z "${SWITCHBOARD_PJSUA2_REBUILD:-}" ] && [ -e "$failed" ] \
    && [ -n "$(find "$failed" -mmin -1440)" ]; then
    use_pypi "the 256-call build failed within the last day ($(head -n 1 "$failed")); \
SWITCHBOARD_PJSUA2_REBUILD=1 retries"
    exit 0
  fi
  log="$CACHE/pjsua2-$MAX_CALLS-$KEY.log"
  work=$(mktemp -d "$CACHE/pjsua2-build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  say "building a $MAX_CALLS-call pjsua2 wheel from Debian's ring sources (about 3 minutes); log: $log"
  started=$(date +%s)
  # Not in an `if`: bash ignores `set -e` inside a condition, even in a subshell.
  set +e
  (set -euo pipefail; build "$work") >"$log" 2>&1
  status=$?
  set -e
  if [ "$status" -eq 0 ]; then
    rm -f "$failed"
    wheel=$(cached_wheel)
    say "built $(basename "$wheel") in $(($(date +%s) - started)) s"
  else
    reason=$(grep -v '^\s*$' "$log" | tail -n 1 | cut -c1-160)
    echo "$reason" >"$failed"
    use_pypi "the 256-call build failed ($reason); log: $log"
    exit 0
  fi
fi
install_wheel "$wheel"
