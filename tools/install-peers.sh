#!/usr/bin/env bash
# Installs what benchmarks/run-peers needs on a fresh Debian (12, bookworm) machine: Debian's
# PyTorch 1.13 for /usr/bin/python3 and the pthread build of OpenBLAS it then calls for torch.mm.
# Run as root (or through sudo). Installs nothing else and downloads nothing outside apt.
set -euo pipefail
packages=(python3-torch libopenblas0-pthread)
if [[ $(id -u) -ne 0 ]]; then
    exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
/usr/bin/python3 -c 'import torch; print("tools/install-peers.sh: torch", torch.__version__, "ready")'
