#!/bin/sh
# Install the Debian packages the test suite needs: Chromium for the browser tests,
# PostgreSQL (with pg_virtualenv) for the second run, poppler-utils (pdftotext) for PDF checks.
# As root on Debian it installs what is missing; elsewhere it says what is missing, and in CI
# (CI=true) a missing package fails the run instead of letting tests skip.
set -eu

missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v pg_virtualenv >/dev/null 2>&1 || missing="$missing postgresql postgresql-common"
[ -d /usr/lib/postgresql ] || missing="$missing postgresql"
command -v pdftotext >/dev/null 2>&1 || missing="$missing poppler-utils"

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    exit 0
fi

echo "Missing system packages:$missing (install them as root: apt-get install$missing)" >&2
if [ "${CI:-}" = "true" ]; then
    exit 1
fi
