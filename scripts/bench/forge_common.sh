# Shared by forge.sh, forge_read.sh, sync.sh and fetch.sh (sourced after pf_common.sh and
# make_work, not run): the servers they start, stopped on exit, and the
# peer forge and mirrors that forge.sh and sync.sh time.

PIDS=()
# A script with more to clean up redefines on_exit_extra and calls stop_servers.
stop_servers() {
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2> /dev/null || true
        wait "$pid" 2> /dev/null || true
    done
}
on_exit_extra() { stop_servers; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_forge DIR [BINARY]: serves DIR/forge.yaml with BINARY ($OENT by
# default); sets FORGE_URL, and FORGE_PID for a caller that stops it early.
start_forge() {
    local dir=$1 binary=${2:-$OENT}
    rm -f "$dir/serve.out"
    (cd "$dir" && exec "$binary" forge serve --config forge.yaml > serve.out 2> forge.log) &
    FORGE_PID=$!
    PIDS+=("$FORGE_PID")
    FORGE_URL=
    for ((i = 0; i < 100; i++)); do
        FORGE_URL=$(sed -n 's/^oent forge: serving //p' "$dir/serve.out" 2> /dev/null || true)
        [[ -n "$FORGE_URL" ]] && return 0
        sleep 0.05
    done
    die "the forge in $dir did not start: $(tail -3 "$dir/forge.log")"
}

# start_nginx ROOT: nginx ($NGINX_WORKERS workers, 2 by default; sendfile, etag, no access log) serving
# the registry directory ROOT from $WORK/nginx; sets NGINX_URL.
start_nginx() {
    local root=$1 ng="$WORK/nginx" port
    mkdir -p "$ng"
    port=$(free_port)
    cat > "$ng/nginx.conf" << CONF
worker_processes ${NGINX_WORKERS:-2};
pid $ng/nginx.pid;
error_log $ng/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    etag on;
    client_body_temp_path $ng/body;
    proxy_temp_path $ng/proxy;
    fastcgi_temp_path $ng/fastcgi;
    uwsgi_temp_path $ng/uwsgi;
    scgi_temp_path $ng/scgi;
    types { application/gzip gz; application/jsonl jsonl; application/yaml yaml; application/json json; }
    server { listen 127.0.0.1:$port; root $root; }
}
CONF
    nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/error.log" -g 'daemon off;' &
    PIDS+=($!)
    NGINX_URL="http://127.0.0.1:$port"
    for ((i = 0; i < 50; i++)); do curl -sf -o /dev/null "$NGINX_URL/registry.yaml" && break; sleep 0.1; done
    curl -sSf -o /dev/null "$NGINX_URL/registry.yaml" || die "nginx does not serve $NGINX_URL/registry.yaml: $(tail -3 "$ng/error.log")"
}

# wrk_rps URL: requests per second of one wrk run ($THREADS, $CONNECTIONS, $DURATION).
wrk_rps() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "$1" | awk '/Requests\/sec/ { print $2 }'; }

# signed_registry DIR: gen_tree.py's MODULES x VERSIONS modules (SEED) built
# into DIR/registry (namespace bench) signed with the key DIR-key, readable
# by nginx's workers, and DIR/forge.yaml that serves it on a free port.
signed_registry() {
    local dir=$1
    "$OENT" new module bench/m-000 --dir "$WORK/template" > /dev/null
    python3 "$BENCH/gen_tree.py" modules "$WORK/modules" "$WORK/template" \
        --modules "$MODULES" --versions "$VERSIONS" --seed "$SEED"
    "$OENT" key new "$dir-key" > /dev/null
    mkdir -p "$dir"
    "$OENT" registry init "$dir/registry" --name bench --namespace bench > /dev/null
    "$OENT" registry build "$WORK/modules" --to "$dir/registry" --sign "$dir-key" > /dev/null
    chmod -R a+rX "$dir"
    cat > "$dir/forge.yaml" << EOF
schema: oent/forge/v1
registry: registry
listen: "127.0.0.1:0"
signing-key: ../$(basename "$dir")-key
sync-interval-seconds: 0
EOF
}

# start_peer: a signed registry in $WORK/peer served by `oent forge serve`;
# sets PEER_URL, PEER_KEY, n_archives and n_bytes, and writes
# $WORK/curl-mirror.cfg: curl -K downloading every archive of the peer under
# its name into $WORK/curl-mirror, as the mirror stores them.
start_peer() {
    signed_registry "$WORK/peer"
    read -r n_archives n_bytes < <(python3 "$BENCH/pf_stats.py" lists "$WORK/peer/registry" "http://x" "$WORK")
    start_forge "$WORK/peer"
    PEER_URL=$FORGE_URL
    PEER_KEY=$(cat "$WORK/peer-key.pub")
    sed "s|^url = \"http://x/\(.*\)\"|url = \"$PEER_URL/\1\"|; s|^output = \"/dev/null\"|output = \"$WORK/curl-mirror/NEXT\"|" "$WORK/curl.cfg" \
        | awk '/^url/ { u = $0; sub(/.*\/archives\//, "", u); sub(/"$/, "", u) } /^output/ { sub(/NEXT/, u) } { print }' > "$WORK/curl-mirror.cfg"
}

# sync_once BINARY: a fresh mirror forge of the peer in $WORK/mirror, then one
# timed `BINARY forge sync`, which must mirror every archive; prints seconds.
sync_once() {
    rm -rf "$WORK/mirror"
    mkdir -p "$WORK/mirror"
    "$1" registry init "$WORK/mirror/registry" --name region --namespace region > /dev/null
    cat > "$WORK/mirror/forge.yaml" << EOF
schema: oent/forge/v1
registry: registry
sync-interval-seconds: 0
peers: [{ name: bench, url: "$PEER_URL", keys: ["$PEER_KEY"], namespaces: [bench] }]
EOF
    local t0 t1
    t0=$(date +%s.%N)
    (cd "$WORK/mirror" && "$1" forge sync --config forge.yaml > sync.out)
    t1=$(date +%s.%N)
    grep -q "$n_archives archives" "$WORK/mirror/sync.out" || die "$1 did not mirror every archive: $(cat "$WORK/mirror/sync.out")"
    elapsed "$t0" "$t1"
}

# curl_once ARGS...: a fresh $WORK/curl-mirror, then one timed curl of
# $WORK/curl-mirror.cfg (checking nothing); prints seconds.
curl_once() {
    rm -rf "$WORK/curl-mirror"
    local t0 t1
    t0=$(date +%s.%N)
    curl -sSf --no-progress-meter --create-dirs "$@" -K "$WORK/curl-mirror.cfg"
    t1=$(date +%s.%N)
    elapsed "$t0" "$t1"
}
