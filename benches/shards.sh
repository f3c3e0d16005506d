#!/bin/bash
# The sharded-run benchmark of benches/RESULTS.md ("Sharded runs"): each book
# run on one machine (1 and 2 threads), as 2 shards side by side (1 thread
# each), then merged (1 and 2 threads); every merged table compared with the
# one-machine run's. With LARGE=1, then the 1,000-member book at 10^8 paths
# with room for its windows (--memory-limit-mib 2048; about 15 minutes):
# one machine (1 thread), a plan and 2 shards from it, 2 shards without.
# Usage: [LARGE=1] benches/shards.sh [CLEARSTRESS] [WORKDIR]
set -u
C=${1:-target/release/clearstress}
C=$(realpath "$C")
W=${2:-$(mktemp -d)}
mkdir -p "$W" && cd "$W" || exit 1
T() { /usr/bin/time -f "$1 %U %S %e %MkB" "${@:2}" >/dev/null; }
[ -d book1000 ] || "$C" init --out book1000 --members 1000 --assets 50 --options 0 >/dev/null
# Shards 0 and 1 of 2 side by side: label, parts folder, then run's flags.
shards() {
    local label=$1 out=$2
    shift 2
    mkdir -p "$out"
    for i in 0 1; do
        T "$label shard-$i" "$C" run "$@" --shard "$i/2" --out "$out" &
    done
    wait
}
# The merges of `parts`, and their tables against the one-machine run's.
merges() {
    local label=$1
    T "$label merge-1-thread" "$C" merge parts/part-*.parquet --out m1 --quiet --threads 1
    T "$label merge-2-threads" "$C" merge parts/part-*.parquet --out m2 --quiet --threads 2
    for f in one/*.parquet; do cmp -s "$f" "m1/$(basename "$f")" || echo "$label DIFFERS: $f"; done
    ls -l parts | awk 'NR > 1 {print $5, $9}'
}
run_case() { # name, paths, then the book flag if any
    local name=$1 paths=$2
    shift 2
    local flags=("$@" --paths "$paths" --backend cpu --quiet)
    rm -rf "$name" && mkdir -p "$name/plan" && cd "$name" || exit 1
    uptime
    T "$name one-machine-1-thread" "$C" run "${flags[@]}" --threads 1 --out one
    T "$name one-machine-2-threads" "$C" run "${flags[@]}" --threads 2 --out one2
    shards "$name" parts "${flags[@]}" --threads 1
    merges "$name"
    cd ..
}
run_case sample 8000000
cd sample && T "sample plan" "$C" run --paths 8000000 --backend cpu --threads 1 --shard plan --out plan --quiet
shards "sample with-plan" parts2 --paths 8000000 --backend cpu --threads 1 --plan plan/plan.parquet --quiet
cd ..
run_case members1000-1e6 1000000 --book ../book1000
run_case members1000-1e7 10000000 --book ../book1000
if [ "${LARGE:-0}" = 1 ]; then
    F=(--book ../book1000 --paths 100000000 --backend cpu --memory-limit-mib 2048 --threads 1 --quiet)
    rm -rf large && mkdir -p large/plan && cd large || exit 1
    uptime
    T "1e8 one-machine-1-thread" "$C" run "${F[@]}" --out one
    T "1e8 plan" "$C" run "${F[@]}" --shard plan --out plan
    shards "1e8 with-plan" parts "${F[@]}" --plan plan/plan.parquet
    shards "1e8 no-plan" parts0 "${F[@]}"
    merges 1e8
    cd ..
fi
uptime
