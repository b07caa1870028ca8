#!/bin/bash
# Generate zoo.cfg and myid from ZOO_* variables (names as in the official
# zookeeper image), then exec the ZooKeeper server in the foreground so that
# it is PID 1 and receives SIGTERM directly.
#
#   ZOO_MY_ID                 server id, written to $ZOO_DATA_DIR/myid (default 1)
#   ZOO_SERVERS               space-separated "server.N=host:2888:3888;2181" entries;
#                             empty => standalone single server
#   ZOO_PORT                  client port (default 2181)
#   ZOO_TICK_TIME             ms (default 2000)
#   ZOO_INIT_LIMIT            ticks (default 10)
#   ZOO_SYNC_LIMIT            ticks (default 5)
#   ZOO_MAX_CLIENT_CNXNS      per client IP (default 60)
#   ZOO_STANDALONE_ENABLED    default true
#   ZOO_ADMINSERVER_ENABLED   default false
#   ZOO_4LW_COMMANDS_WHITELIST default "srvr" (the healthcheck needs srvr)
#   ZOO_AUTOPURGE_PURGEINTERVAL / ZOO_AUTOPURGE_SNAPRETAINCOUNT (0 / 3)
#   ZOO_CFG_EXTRA             extra "key=value" entries, space-separated
#   ZOO_LOG_LEVEL             trace|debug|info|warn|error (default info)
#   ZOO_CNXN_LOG_LEVEL        level of the per-connection logger (default warn:
#                             at info it logs every healthcheck's srvr)
#   JVMFLAGS                  default "-Xmx256m -XX:+UseSerialGC"
#
# A zoo.cfg already present in $ZOOCFGDIR (e.g. bind-mounted) is used as is.
# With arguments, the configuration is written and the arguments are exec'd.
set -euo pipefail

: "${ZOOCFGDIR:=/conf}"
: "${ZOO_DATA_DIR:=/data}"
: "${ZOO_DATA_LOG_DIR:=/datalog}"
: "${ZOO_PORT:=2181}"
: "${ZOO_MY_ID:=1}"
: "${ZOO_SERVERS:=}"
: "${ZOO_TICK_TIME:=2000}"
: "${ZOO_INIT_LIMIT:=10}"
: "${ZOO_SYNC_LIMIT:=5}"
: "${ZOO_MAX_CLIENT_CNXNS:=60}"
: "${ZOO_STANDALONE_ENABLED:=true}"
: "${ZOO_ADMINSERVER_ENABLED:=false}"
: "${ZOO_4LW_COMMANDS_WHITELIST:=srvr}"
: "${ZOO_AUTOPURGE_PURGEINTERVAL:=0}"
: "${ZOO_AUTOPURGE_SNAPRETAINCOUNT:=3}"
: "${ZOO_CFG_EXTRA:=}"
: "${ZOO_LOG_LEVEL:=info}"
: "${ZOO_CNXN_LOG_LEVEL:=warn}"
: "${JVMFLAGS:=-Xmx256m -XX:+UseSerialGC}"

log() { printf '[zk-entrypoint] %s\n' "$*" >&2; }

CONFIG="$ZOOCFGDIR/zoo.cfg"

for dir in "$ZOOCFGDIR" "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR"; do
    mkdir -p "$dir"
    if [ ! -w "$dir" ]; then
        log "ERROR: $dir is not writable by $(id -un) (uid $(id -u))"
        exit 1
    fi
done

if [ -f "$CONFIG" ]; then
    log "using existing $CONFIG"
else
    {
        echo "dataDir=$ZOO_DATA_DIR"
        echo "dataLogDir=$ZOO_DATA_LOG_DIR"
        echo "clientPort=$ZOO_PORT"
        echo "tickTime=$ZOO_TICK_TIME"
        echo "initLimit=$ZOO_INIT_LIMIT"
        echo "syncLimit=$ZOO_SYNC_LIMIT"
        echo "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
        echo "standaloneEnabled=$ZOO_STANDALONE_ENABLED"
        echo "admin.enableServer=$ZOO_ADMINSERVER_ENABLED"
        echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST"
        echo "autopurge.purgeInterval=$ZOO_AUTOPURGE_PURGEINTERVAL"
        echo "autopurge.snapRetainCount=$ZOO_AUTOPURGE_SNAPRETAINCOUNT"
        if [ -n "$ZOO_SERVERS" ]; then
            # Bind quorum/election ports on all interfaces: a container's own
            # name may not resolve to its address before its network is up.
            echo "quorumListenOnAllIPs=true"
            for server in $ZOO_SERVERS; do
                echo "$server"
            done
        fi
        for entry in $ZOO_CFG_EXTRA; do
            echo "$entry"
        done
    } >"$CONFIG"
    log "wrote $CONFIG ($([ -n "$ZOO_SERVERS" ] && echo ensemble || echo standalone))"
fi

# Always (re)write myid: a data dir may hold a stale or placeholder id.
echo "$ZOO_MY_ID" >"$ZOO_DATA_DIR/myid"

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

# Debian's jars; zookeeper.jar's manifest carries its dependencies. slf4j-simple
# is the logging backend (console), avoiding log4j 1.x entirely.
CLASSPATH="$ZOOCFGDIR:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"

# shellcheck disable=SC2086 # JVMFLAGS is a list of words by design
exec java \
    -Dzookeeper.log.dir=/tmp \
    -Dorg.slf4j.simpleLogger.defaultLogLevel="$ZOO_LOG_LEVEL" \
    -Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.server.NIOServerCnxn="$ZOO_CNXN_LOG_LEVEL" \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    -Dorg.slf4j.simpleLogger.dateTimeFormat="yyyy-MM-dd'T'HH:mm:ss.SSSZ" \
    -Dorg.slf4j.simpleLogger.showShortLogName=true \
    -Dorg.slf4j.simpleLogger.logFile=System.out \
    -XX:+ExitOnOutOfMemoryError \
    $JVMFLAGS \
    -cp "$CLASSPATH" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$CONFIG"
