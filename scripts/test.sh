#!/usr/bin/env bash
# Runs every test as CI does: formatting, vet, the race detector over all
# packages (the store tests on SQLite and on a private PostgreSQL), and each
# fuzz target over its seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt: these files need formatting:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...

# Every store test runs on both engines: the PostgreSQL ones need a server,
# and LBM_REQUIRE_POSTGRES turns a missing one into a failure, not a skip.
source scripts/postgres.sh
trap postgres_stop EXIT
postgres_start
export LBM_REQUIRE_POSTGRES=1
# The browser tests drive headless Chromium; LBM_REQUIRE_CHROMIUM turns a
# missing browser into a failure, not a skip.
source scripts/chromium.sh
chromium_install
export LBM_REQUIRE_CHROMIUM=1
# The witness test runs litewitness, which signs through ssh-agent.
debian_install ssh-agent openssh-client
# The syslog input's tests forward through a private rsyslogd (the test
# finds it at /usr/sbin/rsyslogd, off a non-root PATH); LBM_REQUIRE_RSYSLOG
# turns a missing one into a failure, not a skip.
debian_install /usr/sbin/rsyslogd rsyslog
export LBM_REQUIRE_RSYSLOG=1
go test -race -count=1 -timeout 30m ./...
if [ -d bench ]; then
	(cd bench && go vet ./... && go build ./...)
fi
echo "test suite wall time: $(( $(date +%s) - start ))s"
