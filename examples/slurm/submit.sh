#!/bin/bash
# Submits a sharded run: SHARDS array tasks of shard.sbatch, then
# merge.sbatch once all of them succeeded (afterok). Run it from the folder
# the parts and the output go in; the settings of shard.sbatch pass through
# (sbatch exports the environment).
#
#   SHARDS=8 PATHS=100000000 BOOK=book examples/slurm/submit.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=${SHARDS:-8}
array=$(sbatch --parsable --array="0-$((shards - 1))" "$here/shard.sbatch")
sbatch --parsable --dependency="afterok:${array%%;*}" "$here/merge.sbatch"
