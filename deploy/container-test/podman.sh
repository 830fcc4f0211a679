#!/usr/bin/env bash
# podman as podman-compose should call it (used with `podman-compose --podman-path` by container-test.sh):
#  - `--runtime runc`: crun fails on hosts with hybrid cgroups (as seen on Debian 12 CI machines).
#  - `network_mode: "service:X"`: Debian 12's podman-compose 1.0.3 passes `--network service:X` and also
#    `--net <project>_default --network-alias <service>`, which podman rejects. Newer podman-compose
#    runs the container with `--network container:<project>_X_1`; so does this wrapper.
set -euo pipefail
args=("$@")
service="" project=""
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    service:*) service="${args[$i]#service:}" ;;
    --net) project="${args[$((i + 1))]%_default}" ;;
  esac
done
if [ -z "$service" ]; then exec podman --runtime runc "$@"; fi
if [ -z "$project" ]; then echo "podman.sh: network_mode service:$service without --net <project>_default" >&2; exit 2; fi
out=()
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --net | --network-alias) i=$((i + 1)) ;;
    service:*) out+=("container:${project}_${service}_1") ;;
    *) out+=("${args[$i]}") ;;
  esac
done
exec podman --runtime runc "${out[@]}"
