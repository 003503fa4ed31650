#!/usr/bin/env bash
# Install the Debian packages the tests drive (sipp, Kamailio, espeak-ng, sox, Chromium,
# Apertium with its English-Spanish pair, npm for axe-core, baresip as a second SIP stack
# for the softphone tests) when they are missing.
# Needs root (or sudo); a no-op when everything is present.
set -euo pipefail

declare -A command_of=(
  [sip-tester]=sipp
  [kamailio]=kamailio
  [espeak-ng]=espeak-ng
  [sox]=sox
  [chromium]=chromium
  [apertium]=apertium
  [npm]=npm
  [baresip-core]=baresip
)
# Packages without a command of their own, told by a file they install.
declare -A file_of=(
  [apertium-eng-spa]=/usr/share/apertium/modes/spa-eng.mode
)

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
