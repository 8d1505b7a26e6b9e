#!/usr/bin/env bash
# Installs the Fashion-MNIST data set (the Debian package dataset-fashion-mnist) into
# /usr/share/datasets/fashion-mnist, where benchmarks/train and FashionMnist.DEFAULT_DIR look for it.
# The tests do not need it: they use the small subset in nn/src/test/resources/fashion-mnist-subset.
set -euo pipefail

dir=/usr/share/datasets/fashion-mnist
if [[ -f "$dir/train-images-idx3-ubyte.gz" && -f "$dir/t10k-labels-idx1-ubyte.gz" ]]; then
    echo "Fashion-MNIST is already installed in $dir"
    exit 0
fi

# apt-get needs root: as root it runs directly, as another user through sudo.
sudo=()
if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "install-fashion-mnist: apt-get needs root; run this script as root" >&2; exit 1; }
    sudo=(sudo)
fi
command -v apt-get >/dev/null || {
    echo "install-fashion-mnist: apt-get not found; on a non-Debian system put the four IDX files" \
         "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz," \
         "t10k-labels-idx1-ubyte.gz) in a directory and pass it with --data DIR" >&2
    exit 1
}

export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; refresh them only when the package is unknown.
if ! apt-cache show dataset-fashion-mnist >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update
fi
"${sudo[@]}" apt-get install -y dataset-fashion-mnist
ls -l "$dir"
