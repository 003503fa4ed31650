#!/usr/bin/env bash
# Install the Debian packages Switchboard needs when they are missing.
#
#   bash scripts/system-deps.sh run   what a running node uses (`make run`): Kamailio (the
#                                     SIP front door and softphones' registrar), espeak-ng
#                                     and sox (IVR prompts, hold music), Apertium with its
#                                     English-Spanish pair and the French-, Portuguese- and
#                                     Italian-Spanish ones (chat translation; fr, pt and it
#                                     reach English through Spanish, docs/i18n.md)
#   bash scripts/system-deps.sh       all that, and what the tests drive (`make test`): sipp,
#                                     Chromium, npm for axe-core, baresip as a second SIP
#                                     stack for the softphone tests
#
# Needs root (or sudo); a no-op when everything is present.
set -euo pipefail

# Debian package -> a command it installs.
declare -A command_of=(
  [kamailio]=kamailio
  [espeak-ng]=espeak-ng
  [sox]=sox
  [apertium]=apertium
  # Constraint Grammar: apertium-spa-ita's it->es mode runs cg-proc, and the package does
  # not depend on cg3 (Italian came back empty without it).
  [cg3]=cg-proc
)
# Packages without a command of their own, told by a file they install.
declare -A file_of=(
  [apertium-eng-spa]=/usr/share/apertium/modes/spa-eng.mode
  [apertium-fr-es]=/usr/share/apertium/modes/fr-es.mode
  [apertium-es-pt]=/usr/share/apertium/modes/pt-es.mode
  [apertium-spa-ita]=/usr/share/apertium/modes/ita-spa.mode
)
case "${1:-test}" in
  run) ;;
  test) command_of+=([sip-tester]=sipp [chromium]=chromium [npm]=npm [baresip-core]=baresip) ;;
  *)
    echo "usage: $0 [run|test]  (run: what a running node uses; test, the default: the tests' too)" >&2
    exit 2
    ;;
esac

missing=()
for package in "${!command_of[@]}"; do
  command -v "${command_of[$package]}" >/dev/null 2>&1 || missing+=("$package")
done
for package in "${!file_of[@]}"; do
  [ -e "${file_of[$package]}" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing system packages: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Other jobs on the machine may hold the dpkg lock: wait for it rather than fail.
apt=(apt-get -o DPkg::Lock::Timeout=900)
"${sudo_cmd[@]}" "${apt[@]}" update -qq
"${sudo_cmd[@]}" "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Kamailio's package starts a system service on 5060; the node runs its own instance.
if command -v systemctl >/dev/null 2>&1; then "${sudo_cmd[@]}" systemctl disable --now kamailio >/dev/null 2>&1 || true; fi
