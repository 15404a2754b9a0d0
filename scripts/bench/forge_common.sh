# Shared by forge.sh, forge_read.sh and sync.sh (sourced after pf_common.sh and
# make_work, not run): the servers they start, stopped on exit.

PIDS=()
on_exit_extra() {
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2> /dev/null || true
        wait "$pid" 2> /dev/null || true
    done
}
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
}

# wrk_rps URL: requests per second of one wrk run ($THREADS, $CONNECTIONS, $DURATION).
wrk_rps() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "$1" | awk '/Requests\/sec/ { print $2 }'; }
