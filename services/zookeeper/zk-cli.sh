#!/bin/bash
# ZooKeeper command-line client (what Debian's zkCli.sh runs), for debugging:
#   docker compose exec zk1 zk-cli -server 127.0.0.1:2181 ls /
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Xmx128m \
    -Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.util.ServiceUtils=off \
    -cp "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar" \
    org.apache.zookeeper.ZooKeeperMain "$@"
