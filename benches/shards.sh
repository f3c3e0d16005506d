#!/bin/bash
# The sharded-run benchmark of benches/RESULTS.md ("Sharded runs"): each book
# run on one machine (1 and 2 threads), as 2 shards side by side (1 thread
# each), then merged (1 and 2 threads); every merged table compared with the
# one-machine run's. Usage: benches/shards.sh [CLEARSTRESS] [WORKDIR]
set -u
C=${1:-target/release/clearstress}
C=$(realpath "$C")
W=${2:-$(mktemp -d)}
mkdir -p "$W" && cd "$W" || exit 1
T() { /usr/bin/time -f "$1 %U %S %e %MkB" "${@:2}" >/dev/null; }
[ -d book1000 ] || "$C" init --out book1000 --members 1000 --assets 50 --options 0 >/dev/null
run_case() { # name, book flag, paths
    local name=$1 book=$2 paths=$3
    rm -rf "$name" && mkdir -p "$name/parts" "$name/plan" && cd "$name" || exit 1
    uptime
    T "$name one-machine-1-thread" "$C" run $book --paths "$paths" --backend cpu --threads 1 --out one --quiet
    T "$name one-machine-2-threads" "$C" run $book --paths "$paths" --backend cpu --threads 2 --out one2 --quiet
    for i in 0 1; do
        T "$name shard-$i" "$C" run $book --paths "$paths" --backend cpu --threads 1 --shard "$i/2" --out parts --quiet &
    done
    wait
    T "$name merge-1-thread" "$C" merge parts/part-*.parquet --out m1 --quiet --threads 1
    T "$name merge-2-threads" "$C" merge parts/part-*.parquet --out m2 --quiet --threads 2
    for f in one/*.parquet; do cmp -s "$f" "m1/$(basename "$f")" || echo "$name DIFFERS: $f"; done
    ls -l parts | awk 'NR > 1 {print $5, $9}'
    cd ..
}
run_case sample "" 8000000
cd sample && T "sample plan" "$C" run --paths 8000000 --backend cpu --threads 1 --shard plan --out plan --quiet
mkdir -p parts2 && for i in 0 1; do
    T "sample shard-$i-with-plan" "$C" run --paths 8000000 --backend cpu --threads 1 --shard "$i/2" --plan plan/plan.parquet --out parts2 --quiet &
done
wait
cd ..
run_case members1000-1e6 "--book ../book1000" 1000000
run_case members1000-1e7 "--book ../book1000" 10000000
uptime
