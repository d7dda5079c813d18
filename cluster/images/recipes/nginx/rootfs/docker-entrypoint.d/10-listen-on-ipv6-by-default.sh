#!/bin/sh
# As the official image: add "listen [::]:80;" to the packaged default.conf when IPv6 is there.
set -e

entrypoint_log() {
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$@"
    fi
}

ME=$(basename "$0")
DEFAULT_CONF_FILE="etc/nginx/conf.d/default.conf"
PACKAGED_SUM=$(cat /usr/share/nginx/default.conf.sha256 2>/dev/null || true)

if [ ! -f "/proc/net/if_inet6" ]; then
    entrypoint_log "$ME: info: ipv6 not available"
    exit 0
fi

if [ ! -f "/$DEFAULT_CONF_FILE" ]; then
    entrypoint_log "$ME: info: /$DEFAULT_CONF_FILE is not a file or does not exist"
    exit 0
fi

touch /$DEFAULT_CONF_FILE 2>/dev/null || { entrypoint_log "$ME: info: can not modify /$DEFAULT_CONF_FILE (read-only file system?)"; exit 0; }

entrypoint_log "$ME: info: Getting the checksum of /$DEFAULT_CONF_FILE"
if [ "$(sha256sum /$DEFAULT_CONF_FILE | cut -d' ' -f1)" != "$PACKAGED_SUM" ]; then
    entrypoint_log "$ME: info: /$DEFAULT_CONF_FILE differs from the packaged version"
    exit 0
fi

sed -i -E "s,listen       ([0-9]+);,listen       \1;\n    listen  [::]:\1;," /$DEFAULT_CONF_FILE
entrypoint_log "$ME: info: Enabled listen on IPv6 in /$DEFAULT_CONF_FILE"
exit 0
