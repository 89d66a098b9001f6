#!/usr/bin/env bash
# Idempotent set-up of everything KV-1 needs; a second run only checks.
#   Debian packages: iverilog, verilator, yosys, opensta, qflow + osu018 technology, ccache
#   .venv with the pinned PyPI packages of requirements.txt
#   .venv/lib/myhdl.vpi, built from the MyHDL source distribution (Icarus co-simulation)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="iverilog verilator yosys opensta qflow qflow-tech-osu018 make g++ ccache"
missing=""
for pkg in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv || { echo "setup: python3 -m venv failed (Python 3.11+ with venv needed)" >&2; exit 1; }
fi
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages (requirements.txt)"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > .venv/.requirements.sha256
fi

# the project's packages (hdl, golden, sim, ...) import from any folder the venv runs in:
# FuseSoC generators and hooks run in build folders
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
[ "$(cat "$site/kv1.pth" 2>/dev/null)" = "$PWD" ] || echo "$PWD" > "$site/kv1.pth"
# FuseSoC must not pick up the cores its generators write under build/
mkdir -p build && touch build/FUSESOC_IGNORE

VPI=.venv/lib/myhdl.vpi
if [ ! -f "$VPI" ]; then
  echo "setup: building myhdl.vpi from the MyHDL source distribution"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  myhdl_version=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("myhdl"))')
  .venv/bin/pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
    "myhdl==$myhdl_version" -d "$tmp"
  tar xzf "$tmp/myhdl-$myhdl_version.tar.gz" -C "$tmp"
  make -s -C "$tmp/myhdl-$myhdl_version/cosimulation/icarus" >/dev/null
  cp "$tmp/myhdl-$myhdl_version/cosimulation/icarus/myhdl.vpi" "$VPI"
fi
echo "setup: ready (.venv, $VPI, $(verilator --version | cut -d' ' -f1-2), $(iverilog -V 2>/dev/null | head -1 | cut -d' ' -f1-4), $(yosys -V | cut -d' ' -f1-2))"
