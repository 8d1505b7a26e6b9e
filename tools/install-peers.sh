#!/usr/bin/env bash
# Installs what benchmarks/run-peers needs on a fresh Debian (12, bookworm) machine: Debian's
# PyTorch 1.13 for /usr/bin/python3 and the pthread build of OpenBLAS it then calls for torch.mm.
# apt-get needs root: run it as root, or as a user who may use sudo (it then asks sudo itself).
# Installs nothing else and downloads nothing outside apt.
set -euo pipefail
packages=(python3-torch libopenblas0-pthread)
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-peers: apt-get needs root; run this script as root" >&2; exit 1; }
    exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
/usr/bin/python3 -c 'import torch; print("tools/install-peers.sh: torch", torch.__version__, "ready")'
