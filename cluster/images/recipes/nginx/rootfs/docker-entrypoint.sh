#!/bin/sh
# The official nginx image's entrypoint (simplified for busybox): run the scripts of
# /docker-entrypoint.d/ when the command is nginx, then exec the command.
set -e

entrypoint_log() {
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$@"
    fi
}

if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
    if [ -n "$(ls -A /docker-entrypoint.d/ 2>/dev/null)" ]; then
        entrypoint_log "$0: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
        entrypoint_log "$0: Looking for shell scripts in /docker-entrypoint.d/"
        for f in /docker-entrypoint.d/*; do
            [ -f "$f" ] || continue
            case "$f" in
                *.envsh)
                    if [ -x "$f" ]; then
                        entrypoint_log "$0: Sourcing $f"
                        . "$f"
                    else
                        entrypoint_log "$0: Ignoring $f, not executable"
                    fi
                    ;;
                *.sh)
                    if [ -x "$f" ]; then
                        entrypoint_log "$0: Launching $f"
                        "$f"
                    else
                        entrypoint_log "$0: Ignoring $f, not executable"
                    fi
                    ;;
                *) entrypoint_log "$0: Ignoring $f" ;;
            esac
        done
        entrypoint_log "$0: Configuration complete; ready for start up"
    else
        entrypoint_log "$0: No files found in /docker-entrypoint.d/, skipping configuration"
    fi
fi

exec "$@"
