#!/usr/bin/env bash
# Makes sure headless Chromium is here for the browser tests (e2e's
# TestBrowser*) and points them at it; sourced by scripts/test.sh.
#
#   source scripts/chromium.sh && chromium_install
#
# Debian's chromium package is installed when /usr/bin/chromium is missing:
# as root directly (CI runs as root on a fresh machine), otherwise through
# sudo. The tests find the browser through LBM_TEST_CHROMIUM and skip
# without it, unless LBM_REQUIRE_CHROMIUM=1 turns that into a failure.

CHROMIUM_BIN=/usr/bin/chromium

# debian_install COMMAND PACKAGE installs Debian's PACKAGE when COMMAND is
# not on PATH: as root directly, otherwise through sudo.
debian_install() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "$2: $1 not found; installing Debian's $2 package" >&2
	local sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "$2: not root and no sudo: install Debian's $2 package (apt-get install $2) and run again" >&2
			return 1
		fi
		sudo="sudo"
	fi
	$sudo apt-get update -qq >&2 || return 1
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$2" >&2 || return 1
	command -v "$1" >/dev/null 2>&1
}

chromium_install() {
	if [ ! -x "$CHROMIUM_BIN" ]; then
		debian_install "$CHROMIUM_BIN" chromium || return 1
		if [ ! -x "$CHROMIUM_BIN" ]; then
			echo "chromium: still no $CHROMIUM_BIN after installing the chromium package" >&2
			return 1
		fi
	fi
	export LBM_TEST_CHROMIUM="$CHROMIUM_BIN"
	echo "chromium: $("$CHROMIUM_BIN" --version 2>/dev/null || echo "$CHROMIUM_BIN")" >&2
}
