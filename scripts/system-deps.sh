#!/usr/bin/env bash
# Install the Debian packages Warroom needs when they are missing (needs root or sudo).
# With WARROOM_DATABASE_URL set, the local PostgreSQL server is not needed. With --test,
# what only the tests need: Debian's Chromium and a CJK font for the map's pages.
set -euo pipefail

need=()
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
else
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || { echo "Python >= 3.11 is required (found: $(python3 --version 2>&1))"; exit 1; }
  python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
  if [ -z "${WARROOM_DATABASE_URL:-}" ]; then
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
    # The PostGIS server extension is postgresql-<major>-postgis-3; the bare 'postgis'
    # package only recommends it, and recommends are not installed here.
    # Without a server yet, the virtual postgresql-postgis is the build for Debian's default.
    major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
    ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 \
      || need+=("postgresql-${major:+$major-}postgis${major:+-3}")
  fi
  command -v ogr2ogr >/dev/null 2>&1 || need+=(gdal-bin)
  command -v npm >/dev/null 2>&1 || need+=(npm)  # the map's front-end libraries
fi

[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "missing packages ${need[*]}: install them as root, or set WARROOM_DATABASE_URL to an existing PostGIS"
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
