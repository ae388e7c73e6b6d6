#!/usr/bin/env bash
# Create the virtual environment and install ioreview with its test extras.
# Qt needs a few system libraries that minimal Debian/Ubuntu images lack, and the PDF report
# (WeasyPrint) needs Pango; install them when we can (root or passwordless sudo), otherwise
# say which ones are missing.
set -euo pipefail
PYTHON=${1:-python3}
VENV=${2:-.venv}

QT_LIBS="libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-render-util0 libxcb-image0 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils"
if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  for p in $QT_LIBS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
    if [ "$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing system libraries for Qt and the PDF report:$missing"
      $SUDO apt-get update -qq || true
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing || \
        echo "setup: could not install some of:$missing (the GUI may not start; tests run offscreen)"
    else
      echo "setup: please install these system packages for the Qt GUI:$missing"
    fi
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[test]"
