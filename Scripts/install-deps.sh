#!/usr/bin/env bash
# Installs the Debian packages VideoSSL builds against, when they are missing. Idempotent and
# non-interactive; does nothing when everything is present.
set -euo pipefail

packages=(pkg-config libopenblas-dev liblapacke-dev libavformat-dev libavcodec-dev libswscale-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing system packages (${missing[*]}) and no apt-get here; install their equivalents" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
        echo "error: installing ${missing[*]} needs root (run as root or install them yourself)" >&2
        exit 1
    fi
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
