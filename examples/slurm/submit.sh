#!/bin/bash
# Submits a sharded run: SHARDS array tasks of shard.sbatch, then
# merge.sbatch once all of them succeeded (afterok). With more than two
# shards (or USE_PLAN=1; USE_PLAN=0 to skip it), first one task writing the
# pilot's windows to plan/plan.parquet, which the shards start from instead
# of each computing the pilot over P/32 scenarios: N/32 of a shard's work,
# against one serial P/32 (methodology 18). Run it from the folder the parts
# and the output go in; the settings of shard.sbatch pass through (sbatch
# exports the environment).
#
#   SHARDS=8 PATHS=100000000 BOOK=book examples/slurm/submit.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=${SHARDS:-8}
after=()
use_plan=${USE_PLAN:-$((shards > 2 ? 1 : 0))}
if [[ "$use_plan" == 1 ]]; then
    plan=$(SHARD=plan PARTS=plan sbatch --parsable --array=0 "$here/shard.sbatch")
    after=(--dependency="afterok:${plan%%;*}")
    export PLAN=plan/plan.parquet
fi
array=$(sbatch --parsable "${after[@]}" --array="0-$((shards - 1))" "$here/shard.sbatch")
sbatch --parsable --dependency="afterok:${array%%;*}" "$here/merge.sbatch"
