#!/bin/sh
# Installs the Debian packages the tests and benchmarks use (real PulseAudio and PipeWire servers, PortAudio,
# the ALSA pulse plugin, headless Chromium), when they are missing. Only on Debian/Ubuntu; needs root there.
set -eu
PACKAGES="pulseaudio pulseaudio-utils pipewire pipewire-pulse wireplumber dbus libportaudio2 libasound2-plugins chromium espeak-ng"

[ "$(uname -s)" = Linux ] || { echo "system-deps: not Linux, nothing to install"; exit 0; }
command -v dpkg-query >/dev/null 2>&1 || { echo "system-deps: no dpkg; install by hand: $PACKAGES" >&2; exit 0; }

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "system-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing
