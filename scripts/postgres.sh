#!/usr/bin/env bash
# Starts a private PostgreSQL for the tests and prints the shell lines that
# point them at it; sourced by scripts/test.sh.
#
#   source scripts/postgres.sh && postgres_start && ... && postgres_stop
#
# The cluster lives in a temporary directory, listens on 127.0.0.1 at a free
# port (and on a socket inside that directory), trusts local connections,
# and is removed by postgres_stop. Debian's postgresql package is installed
# when no initdb is found. initdb refuses to run as root, so as root the
# cluster runs as the postgres user (runuser), as CI requires.

postgres_bindir() {
	local d
	if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v pg_ctl)")"
		return
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return
		fi
	done
	return 1
}

postgres_install() {
	echo "postgres: initdb not found; installing Debian's postgresql package" >&2
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
}

# postgres_free_port prints a TCP port on 127.0.0.1 that nothing listens on.
postgres_free_port() {
	local port
	for _ in $(seq 1 200); do
		port=$(( 20000 + RANDOM % 40000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	echo "postgres: no free port found" >&2
	return 1
}

# as_owner runs a command as the cluster's owner: postgres when we are root.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

postgres_start() {
	local bin
	bin=$(postgres_bindir) || { postgres_install && bin=$(postgres_bindir); } || {
		echo "postgres: no PostgreSQL server binaries after installing" >&2
		return 1
	}
	POSTGRES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lbm-postgres.XXXXXX")
	chmod 0755 "$POSTGRES_DIR"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$POSTGRES_DIR"
	POSTGRES_BIN=$bin
	POSTGRES_PORT=$(postgres_free_port)
	as_owner "$bin/initdb" -D "$POSTGRES_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-instructions >"$POSTGRES_DIR/initdb.log" 2>&1 || {
		cat "$POSTGRES_DIR/initdb.log" >&2
		return 1
	}
	# max_connections: test packages run in parallel, each with its own pools.
	as_owner "$bin/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" -w -t 60 start \
		-o "-c listen_addresses=127.0.0.1 -p $POSTGRES_PORT -k $POSTGRES_DIR -c max_connections=300 -c synchronous_commit=on" >/dev/null || {
		cat "$POSTGRES_DIR/server.log" >&2
		return 1
	}
	export LBM_TEST_POSTGRES="postgres://postgres@127.0.0.1:$POSTGRES_PORT/postgres?sslmode=disable"
	export LBM_TEST_POSTGRES_BIN="$bin"
	echo "postgres: private server $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$POSTGRES_PORT" >&2
}

postgres_stop() {
	if [ -n "${POSTGRES_DIR:-}" ] && [ -d "$POSTGRES_DIR/data" ]; then
		as_owner "$POSTGRES_BIN/pg_ctl" -D "$POSTGRES_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
		rm -rf "$POSTGRES_DIR"
	fi
}
