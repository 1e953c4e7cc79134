# shellcheck shell=bash
# A throw-away PostgreSQL cluster for the tests: Debian's postgresql server,
# started for real (never mocked), listening only on a Unix socket in its
# own temporary directory (listen_addresses=''), so nothing outside the
# test can reach it and parallel runs never collide on a port.
#
#	. tests/lib/pg.sh
#	pg_start || fail			# exports CYPH_TEST_PG, PG_DIR
#	pg_createdb as1				# an empty database
#	... "postgres:$CYPH_TEST_PG dbname=as1" ...
#	pg_stop					# stops it and deletes everything
#
# PostgreSQL refuses to run as root: when the tests run as root, the
# cluster runs as the "postgres" system user (or "nobody"). Durability is
# switched off (fsync, synchronous_commit): the data dies with the test.

# The newest installed server's bin directory.
pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	[ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] || return 1
	echo "$d"
}

# Runs a command as the cluster's owner.
pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd "$PG_DIR" && runuser -u "$PG_USER" -- "$@")
	else
		(cd "$PG_DIR" && "$@")
	fi
}

pg_start() {
	PG_BIN=$(pg_bindir) || {
		echo "pg_start: no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
		return 1
	}
	PG_USER=$(id -un)
	if [ "$(id -u)" -eq 0 ]; then
		PG_USER=postgres
		id -u "$PG_USER" > /dev/null 2>&1 || PG_USER=nobody
	fi
	PG_DIR=$(mktemp -d /tmp/cyph-pg.XXXXXX) || return 1
	chown "$PG_USER" "$PG_DIR" && chmod 0700 "$PG_DIR" || return 1
	if ! pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U cyphonic --auth=trust -E UTF8 \
			--no-sync --no-instructions > "$PG_DIR/initdb.log" 2>&1; then
		echo "pg_start: initdb failed:" >&2
		tail -n 20 "$PG_DIR/initdb.log" >&2
		return 1
	fi
	if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
			-o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR' \
			    -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
			    -c shared_buffers=16MB -c max_connections=60" \
			start > "$PG_DIR/pg_ctl.log" 2>&1; then
		echo "pg_start: the server did not start:" >&2
		tail -n 20 "$PG_DIR/server.log" "$PG_DIR/pg_ctl.log" >&2
		return 1
	fi
	export PG_DIR PG_BIN PG_USER
	export CYPH_TEST_PG="host=$PG_DIR user=cyphonic dbname=postgres"
}

# Runs SQL (a constant of the test) on the cluster's "postgres" database.
pg_sql() {
	PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -U cyphonic -d postgres -c "$1"
}

# A new, empty database (dropped first if it exists).
pg_createdb() {
	pg_sql "DROP DATABASE IF EXISTS \"$1\"" && pg_sql "CREATE DATABASE \"$1\""
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop > /dev/null 2>&1
	rm -rf "$PG_DIR"
	unset PG_DIR CYPH_TEST_PG
}
