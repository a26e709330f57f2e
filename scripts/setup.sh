#!/usr/bin/env bash
# Installs what runos needs on a fresh Debian 12 machine with Node 20. Idempotent: a second run
# only checks. Used by the demo and test commands in README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

# wireguard-go/tools, nftables, iproute2, ping: the overlay lab. haproxy, etcd, arping: the API load
# balancer, etcd membership and VIP lab tests.
# curl, shellcheck: the Kubernetes install lists (run on lab hosts, checked in tests). gcc, libc6-dev,
# libseccomp-dev: the lab's Kubernetes bundle build (runc needs cgo; lab/kubernetes/build-bundle.sh).
apt_packages=(wireguard-go wireguard-tools nftables iproute2 iputils-ping util-linux openssl haproxy etcd-server etcd-client iputils-arping
  curl shellcheck gcc libc6-dev libseccomp-dev)

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages ${missing[*]}; run as root to install them" >&2
  else
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# npm ci only when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci (compiles better-sqlite3, about a minute)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
