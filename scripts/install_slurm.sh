#!/usr/bin/env bash
# Install a single-node SLURM (Debian's slurm-wlm and munge) for tests/test_slurm.py.
# Idempotent: does nothing when slurmctld, slurmd and munged are already installed.
# Needs root and apt-get; the test skips with this script's message where it fails.
# Installing starts no daemon: the test fixture writes its own munge key and
# slurm.conf into a temporary directory and starts and stops the daemons itself.
set -euo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "SLURM is not installed and cannot be installed here (needs root and apt-get):" \
        "apt-get install slurm-wlm munge" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends slurm-wlm munge
