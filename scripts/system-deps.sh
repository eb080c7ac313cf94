#!/usr/bin/env bash
# Install the Debian packages Warroom needs when they are missing (needs root or sudo).
# With WARROOM_DATABASE_URL set, the local PostgreSQL server is not needed.
set -euo pipefail

need=()
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || { echo "Python >= 3.11 is required (found: $(python3 --version 2>&1))"; exit 1; }
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if [ -z "${WARROOM_DATABASE_URL:-}" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || need+=(postgis)
fi
command -v ogr2ogr >/dev/null 2>&1 || need+=(gdal-bin)

[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "missing packages ${need[*]}: install them as root, or set WARROOM_DATABASE_URL to an existing PostGIS"
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# 'postgis' pulls the PostGIS build matching Debian's default PostgreSQL.
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
