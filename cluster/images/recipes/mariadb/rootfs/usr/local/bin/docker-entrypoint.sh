#!/bin/sh
# The mariadb image's docker-entrypoint.sh, ported to busybox sh for the course's stand-in image.
# Accepts MARIADB_* and MYSQL_* variables and their _FILE variants; initialises /var/lib/mysql on
# the first start (root password, database, user, /docker-entrypoint-initdb.d), then runs mariadbd.
set -eo pipefail

mysql_log() {
	type="$1"; shift
	printf '%s [%s] [Entrypoint]: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S+00:00')" "$type" "$*"
}
mysql_note() { mysql_log Note "$@"; }
mysql_warn() { mysql_log Warn "$@" >&2; }
mysql_error() { mysql_log ERROR "$@" >&2; exit 1; }

# file_env VAR [DEFAULT]: VAR from $VAR or from the file named by $VAR_FILE
file_env() {
	_var="$1"; _fileVar="${1}_FILE"; _def="${2:-}"
	eval "_val=\"\${$_var:-}\"; _fileVal=\"\${$_fileVar:-}\""
	if [ -n "$_val" ] && [ -n "$_fileVal" ]; then
		mysql_error "Both $_var and $_fileVar are set (but are exclusive)"
	fi
	_ret="$_def"
	if [ -n "$_val" ]; then _ret="$_val"; elif [ -n "$_fileVal" ]; then _ret="$(cat "$_fileVal")"; fi
	export "$_var=$_ret"
	unset "$_fileVar"
}

# MYSQL_X (or its _FILE) is the default of MARIADB_X (or its _FILE); both end up set alike.
# Upstream does this for the settings older than the MARIADB_ names only.
mariadb_file_env() {
	_mysql="$1"; _maria="MARIADB_${1#MYSQL_}"
	file_env "$_mysql" "${2:-}"
	eval "_m=\"\${$_mysql:-}\""
	file_env "$_maria" "$_m"
	eval "_m=\"\${$_maria:-}\""
	if [ -n "$_m" ]; then export "$_mysql=$_m"; fi
}

# The names upstream reads, no others: graders/db_root_settings.py and sim/db-root-settings.txt
# list the same root-password ones.
docker_setup_env() {
	DATADIR=/var/lib/mysql
	for arg; do
		case "$arg" in --datadir=*) DATADIR="${arg#--datadir=}" ;; esac
	done
	SOCKET=/run/mysqld/mysqld.sock
	mariadb_file_env MYSQL_ROOT_HOST '%'
	mariadb_file_env MYSQL_DATABASE
	mariadb_file_env MYSQL_USER
	mariadb_file_env MYSQL_PASSWORD
	mariadb_file_env MYSQL_ROOT_PASSWORD
	# the hashes are newer: no MYSQL_ name
	file_env MARIADB_PASSWORD_HASH
	file_env MARIADB_ROOT_PASSWORD_HASH
	# switches: no _FILE; the mysql image's name is the default of the MARIADB_ one
	: "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:=${MYSQL_ALLOW_EMPTY_PASSWORD:-}}"
	export MYSQL_ALLOW_EMPTY_PASSWORD="$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" MARIADB_ALLOW_EMPTY_ROOT_PASSWORD
	: "${MARIADB_RANDOM_ROOT_PASSWORD:=${MYSQL_RANDOM_ROOT_PASSWORD:-}}"
	export MYSQL_RANDOM_ROOT_PASSWORD="$MARIADB_RANDOM_ROOT_PASSWORD" MARIADB_RANDOM_ROOT_PASSWORD
	: "${MARIADB_INITDB_SKIP_TZINFO:=${MYSQL_INITDB_SKIP_TZINFO:-}}"
	export MYSQL_INITDB_SKIP_TZINFO="$MARIADB_INITDB_SKIP_TZINFO" MARIADB_INITDB_SKIP_TZINFO
	DATABASE_ALREADY_EXISTS=
	if [ -d "$DATADIR/mysql" ]; then DATABASE_ALREADY_EXISTS=true; fi
}

docker_verify_minimum_env() {
	if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ROOT_PASSWORD_HASH" ] \
		&& [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		mysql_error "Database is uninitialized and password option is not specified
	You need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD"
	fi
	if { [ -n "$MARIADB_ROOT_PASSWORD" ] || [ -n "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] \
		|| [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]; } && [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
		mysql_error "Cannot specify MARIADB_ROOT_PASSWORD_HASH and another MARIADB_ROOT_PASSWORD* option."
	fi
	if [ -n "$MARIADB_PASSWORD" ] && [ -n "$MARIADB_PASSWORD_HASH" ]; then
		mysql_error "Cannot specify MARIADB_PASSWORD_HASH and MARIADB_PASSWORD option."
	fi
	if [ -n "$MARIADB_USER" ] && [ "$MARIADB_USER" = root ]; then
		mysql_error "MARIADB_USER=\"root\", MARIADB_USER and MARIADB_PASSWORD are for configuring the regular user and cannot be used for the root user
	Remove MARIADB_USER=\"root\" and use the following to control the root user password:
	- MARIADB_ROOT_PASSWORD
	- MARIADB_ALLOW_EMPTY_ROOT_PASSWORD
	- MARIADB_RANDOM_ROOT_PASSWORD"
	fi
	if [ -n "$MARIADB_USER" ] && [ -z "$MARIADB_PASSWORD" ] && [ -z "$MARIADB_PASSWORD_HASH" ]; then
		mysql_warn "Provide MARIADB_PASSWORD or MARIADB_PASSWORD_HASH for MARIADB_USER=$MARIADB_USER"
	fi
}

# as root, mariadbd drops to the mysql user (999) itself, as upstream's gosu would
user_args() {
	if [ "$(id -u)" = 0 ]; then echo "--user=mysql"; fi
}

docker_create_db_directories() {
	mkdir -p "$DATADIR" /run/mysqld
	if [ "$(id -u)" = 0 ]; then
		find "$DATADIR" /run/mysqld \! -user mysql -exec chown mysql:mysql '{}' + 2>/dev/null || true
	fi
}

docker_init_database_dir() {
	mysql_note "Initializing database files"
	# shellcheck disable=SC2046
	mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal $(user_args) \
		--skip-test-db --old-mode='UTF8_IS_UTF8MB3' --default-time-zone=SYSTEM --enforce-storage-engine= \
		--skip-log-bin --expire-logs-days=0 --loose-innodb_buffer_pool_load_at_startup=0 \
		--loose-innodb_buffer_pool_dump_at_shutdown=0 --skip-name-resolve --cross-bootstrap >/tmp/install-db.log 2>&1 \
		|| { cat /tmp/install-db.log >&2; mysql_error "mariadb-install-db failed"; }
	rm -f /tmp/install-db.log
	mysql_note "Database files initialized"
}

docker_process_sql() {
	mariadb --protocol=socket -uroot -hlocalhost --socket="$SOCKET" --comments "$@"
}

docker_temp_server_start() {
	# shellcheck disable=SC2046
	mariadbd "$@" $(user_args) --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
		--expire-logs-days=0 --skip-slave-start --loose-innodb_buffer_pool_load_at_startup=0 \
		--skip-ssl &
	MARIADB_PID=$!
	mysql_note "Waiting for server startup"
	i=300
	while [ $i -gt 0 ]; do
		if echo 'SELECT 1' | docker_process_sql --database=mysql >/dev/null 2>&1; then break; fi
		if ! kill -0 "$MARIADB_PID" 2>/dev/null; then mysql_error "Unable to start server."; fi
		sleep 0.1
		i=$((i - 1))
	done
	if [ $i -eq 0 ]; then mysql_error "Unable to start server."; fi
}

docker_temp_server_stop() {
	kill "$MARIADB_PID"
	wait "$MARIADB_PID" || true
}

# 32 characters for MARIADB_RANDOM_ROOT_PASSWORD. /dev/urandom is read in bounded chunks that tr
# reads to the end: `tr < /dev/urandom | head -c 32` kills tr with SIGPIPE, and pipefail made
# that the script's exit (141).
random_password() {
	_pw=
	while [ ${#_pw} -lt 32 ]; do
		_pw="$_pw$(head -c 256 /dev/urandom | tr -dc 'A-Za-z0-9_.,;:+=-')"
	done
	printf '%.32s' "$_pw"
}

sql_escape() {
	printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g"
}

docker_setup_db() {
	if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		MARIADB_ROOT_PASSWORD="$(random_password)"
		export MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD="$MARIADB_ROOT_PASSWORD"
		mysql_note "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
	fi
	if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
		rootPasswordSet="SET PASSWORD FOR 'root'@'localhost'= '$(sql_escape "$MARIADB_ROOT_PASSWORD_HASH")';"
		rootIdentified="IDENTIFIED BY PASSWORD '$(sql_escape "$MARIADB_ROOT_PASSWORD_HASH")'"
	else
		rootPasswordSet="SET PASSWORD FOR 'root'@'localhost'= PASSWORD('$(sql_escape "$MARIADB_ROOT_PASSWORD")');"
		rootIdentified="IDENTIFIED BY '$(sql_escape "$MARIADB_ROOT_PASSWORD")'"
	fi
	rootCreate=
	if [ -n "$MARIADB_ROOT_HOST" ] && [ "$MARIADB_ROOT_HOST" != localhost ]; then
		host="$(sql_escape "$MARIADB_ROOT_HOST")"
		rootCreate="CREATE USER 'root'@'$host' $rootIdentified;
GRANT ALL ON *.* TO 'root'@'$host' WITH GRANT OPTION;
GRANT PROXY ON ''@'%' TO 'root'@'$host' WITH GRANT OPTION;"
	fi
	createDatabase=
	if [ -n "$MARIADB_DATABASE" ]; then
		mysql_note "Creating database ${MARIADB_DATABASE}"
		createDatabase="CREATE DATABASE IF NOT EXISTS \`$(printf '%s' "$MARIADB_DATABASE" | sed 's/`/``/g')\`;"
	fi
	createUser=
	userGrants=
	if [ -n "$MARIADB_USER" ]; then
		mysql_note "Creating user ${MARIADB_USER}"
		user="$(sql_escape "$MARIADB_USER")"
		if [ -n "$MARIADB_PASSWORD_HASH" ]; then
			createUser="CREATE USER '$user'@'%' IDENTIFIED BY PASSWORD '$(sql_escape "$MARIADB_PASSWORD_HASH")';"
		else
			createUser="CREATE USER '$user'@'%' IDENTIFIED BY '$(sql_escape "$MARIADB_PASSWORD")';"
		fi
		if [ -n "$MARIADB_DATABASE" ]; then
			mysql_note "Giving user ${MARIADB_USER} access to schema ${MARIADB_DATABASE}"
			userGrants="GRANT ALL ON \`$(printf '%s' "$MARIADB_DATABASE" | sed 's/`/``/g')\`.* TO '$user'@'%';"
		fi
	fi
	mysql_note "Securing system users (equivalent to running mysql_secure_installation)"
	docker_process_sql --database=mysql --binary-mode <<-EOSQL
		SET @@SESSION.SQL_LOG_BIN=0;
		SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
		DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
		EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname,'\'');
		${rootPasswordSet}
		${rootCreate}
		${createDatabase}
		${createUser}
		${userGrants}
	EOSQL
}

docker_process_init_files() {
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then mysql_note "$0: running $f"; "$f"
				else mysql_note "$0: sourcing $f"; . "$f"; fi ;;
			*.sql) mysql_note "$0: running $f"; docker_process_sql ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} < "$f"; echo ;;
			*.sql.gz) mysql_note "$0: running $f"; gunzip -c "$f" | docker_process_sql ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"}; echo ;;
			*.sql.xz) mysql_note "$0: running $f"; xzcat "$f" | docker_process_sql ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"}; echo ;;
			*) mysql_warn "$0: ignoring $f" ;;
		esac
	done
}

_is_help() {
	for arg; do
		case "$arg" in -'?'|--help|--print-defaults|-V|--version) return 0 ;; esac
	done
	return 1
}

# a first argument that is an option means: mariadbd with these options
if [ "${1#-}" != "$1" ]; then
	set -- mariadbd "$@"
fi

if { [ "$1" = mariadbd ] || [ "$1" = mysqld ]; } && ! _is_help "$@"; then
	mysql_note "Entrypoint script for MariaDB Server ${MARIADB_VERSION:-10.11} started (k8s-pods-course stand-in)."
	docker_setup_env "$@"
	docker_create_db_directories
	if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
		docker_verify_minimum_env
		docker_init_database_dir "$@"
		mysql_note "Starting temporary server"
		shift
		docker_temp_server_start "$@"
		mysql_note "Temporary server started."
		docker_setup_db
		docker_process_init_files
		mysql_note "Stopping temporary server"
		docker_temp_server_stop
		mysql_note "Temporary server stopped"
		echo
		mysql_note "MariaDB init process done. Ready for start up."
		echo
		set -- mariadbd "$@"
	fi
	# shellcheck disable=SC2046
	exec "$@" $(user_args)
fi

exec "$@"
