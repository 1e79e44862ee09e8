#!/bin/sh
# Installs Debian's python3-pandas for /usr/bin/python3, which the pandas side of the
# benchmark needs. apt-get needs root, so run this as root or through sudo. It does
# nothing when pandas is already present.
set -eu

PYTHON=/usr/bin/python3

if [ -x "$PYTHON" ] && "$PYTHON" -c 'import pandas' 2>/dev/null; then
  echo "setup: pandas $("$PYTHON" -c 'import pandas; print(pandas.__version__)') is present for $PYTHON."
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "setup: installing python3-pandas needs root; run this script as root or install sudo." >&2
  exit 1
fi

echo "setup: installing python3-pandas with apt-get"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends python3-pandas
"$PYTHON" -c 'import pandas; print("setup: pandas", pandas.__version__, "is installed for '"$PYTHON"'")'
