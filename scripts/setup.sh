#!/usr/bin/env bash
# Installs everything the app and the tests need on a fresh Debian 12 machine with Node 20:
# Debian packages (reference lz4/zstd tools the interop tests run; a C++ toolchain for
# zstd-napi's and keytar's native builds; libsecret + gnome-keyring + dbus for the keychain
# tests against a real Secret Service; libgcrypt and liblz4 for the native blob codec; Ceph's radosgw for the S3 conformance run) and the npm
# packages from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 ELECTRON_SKIP_BINARY_DOWNLOAD=1

need=()
command -v lz4 >/dev/null || need+=(lz4)
command -v zstd >/dev/null || need+=(zstd)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
pkg-config --exists libsecret-1 2>/dev/null || need+=(libsecret-1-dev pkg-config)
# libgcrypt >= 1.10 and liblz4 for the native blob codec (native/codec: AES-KW + AES-GCM-SIV, LZ4 frames)
pkg-config --atleast-version=1.10 libgcrypt 2>/dev/null || need+=(libgcrypt20-dev pkg-config)
pkg-config --exists liblz4 2>/dev/null || need+=(liblz4-dev pkg-config)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v dbus-run-session >/dev/null || need+=(dbus-daemon)
command -v radosgw >/dev/null || need+=(ceph-mon ceph-osd ceph-mgr radosgw ceph-common)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# npm ci is reproducible from the lock file; skip it when node_modules already matches.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.kloset-lock-stamp; then
  # @napi-rs/blake-hash lists platform packages that were never published, which npm ci takes
  # for a lock file out of sync; npm install resolves the same locked versions without them.
  npm ci --no-audit --no-fund || npm install --no-audit --no-fund --no-save
  cp package-lock.json node_modules/.kloset-lock-stamp
fi

# The native blob codec (a Node-API addon over the system's libgcrypt and liblz4); rebuilt when
# its sources are newer than the build. The engine runs without it, slower (portable paths).
addon=native/codec/build/Release/kloset_codec.node
if [ ! -f "$addon" ] || [ -n "$(find native/codec -maxdepth 1 -newer "$addon" -type f)" ]; then
  npm run --silent build:native
fi

# The CLI runs compiled JavaScript (bin/kloset.js falls back to the sources without it).
npm run build --silent
