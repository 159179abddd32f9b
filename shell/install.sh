#!/bin/sh
# Build and install strata from this checkout with `cargo install`, as a static binary where
# the platform allows it, and say which build it made.
#
#   sh shell/install.sh [CARGO-INSTALL-OPTIONS...]     # e.g. --root DIR, --force
#
# On Linux x86_64 and aarch64 with rustup, the binary is linked statically against musl: it
# starts in a fraction of the time a dynamically linked one needs, which is what a prompt pays
# for (see bench/README.md). Where that target is missing and cannot be added (offline), or
# on another system, it is the default `cargo install` build. Set STRATA_BUILD=default to ask
# for that build anyway. Honours CARGO_INSTALL_ROOT, CARGO_HOME and every cargo option.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$repo/Cargo.toml" ] || [ ! -f "$repo/src/main.rs" ]; then
  echo "install.sh: run me from a strata checkout (shell/install.sh)" >&2
  exit 1
fi
command -v cargo >/dev/null 2>&1 || {
  echo "install.sh: cargo is not on PATH; install Rust first (https://rustup.rs)" >&2
  exit 1
}

# Where cargo puts the binary: --root, then CARGO_INSTALL_ROOT, then CARGO_HOME.
root=${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}
want_root=
for arg in "$@"; do
  if [ -n "$want_root" ]; then root=$arg want_root=; continue; fi
  case $arg in
    --root) want_root=1 ;;
    --root=*) root=${arg#--root=} ;;
  esac
done

case ${STRATA_BUILD:-static} in
  static | default) ;;
  *) echo "install.sh: STRATA_BUILD is static or default, not '$STRATA_BUILD'" >&2; exit 2 ;;
esac
target=
why="default build"
case ${STRATA_BUILD:-static}/$(uname -s)/$(uname -m) in
  default/*) why="default build (STRATA_BUILD=default)" ;;
  */Linux/x86_64 | */Linux/aarch64)
    t=$(uname -m)-unknown-linux-musl
    if ! command -v rustup >/dev/null 2>&1; then
      why="default build: no rustup to add the $t target"
    elif rustup target list --installed 2>/dev/null | grep -qx "$t" ||
      rustup target add "$t" >&2; then
      target=$t
    else
      why="default build: the $t target could not be added (offline?)"
    fi
    ;;
  *) why="default build (static builds are made on Linux x86_64 and aarch64)" ;;
esac

if [ -n "$target" ]; then
  # Linked at a fixed address: a position-independent static binary relocates itself at every
  # start, a third of the instructions of a no-op `strata export` (bench/README.md). Only for
  # this target, and only when RUSTFLAGS does not say otherwise.
  triple=$(echo "$target" | tr 'a-z-' 'A-Z_')
  eval "rustflags=\${CARGO_TARGET_${triple}_RUSTFLAGS-}"
  if [ -z "${RUSTFLAGS-}" ] && [ -z "$rustflags" ]; then
    export "CARGO_TARGET_${triple}_RUSTFLAGS=-C relocation-model=static"
  fi
  if cargo install --locked --path "$repo" --target "$target" "$@"; then
    why="static build ($target)"
  else
    echo "install.sh: the static build failed; making the default build instead" >&2
    target=
    why="default build: the static $t build failed"
  fi
fi
if [ -z "$target" ]; then
  cargo install --locked --path "$repo" "$@"
fi

bin=$root/bin/strata
echo "install.sh: installed $bin, $why"
"$bin" --version
