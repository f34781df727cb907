#!/usr/bin/env bash
# One prepared run on the lent GPU machine: installs the carried wheels, trains the default model
# from that machine's own Python installation, and leaves the GGUF (in <16 MiB parts) and the
# run's records under $OUT. Locally: OUT=/tmp/out PRESET=tiny bash training/device_run.sh
set -o pipefail
PRESET=${PRESET:-default}
TRAIN_S=${TRAIN_S:-300}        # training seconds
TOTAL_S=${TOTAL_S:-470}        # whole pipeline seconds (training is shortened to fit)
CORPUS_MB=${CORPUS_MB:-500}    # cap on kept source
PY=${PY:-python3}
OUT=${OUT:?set OUT}
RUN=${RUN:-/tmp/slm-run}
TOKENIZER=${TOKENIZER:-}       # reuse a tokenizer.json instead of training one
# FIM mix: the product prompts slm-fim suffix first (SPM) and heals the prefix's last token, so the
# next run leans on SPM; line-tail holes are the rest of a line after a cursor mid-statement.
SPM_RATE=${SPM_RATE:-0.7}
LINE_SPAN_RATE=${LINE_SPAN_RATE:-0.5}
LINE_TAIL_RATE=${LINE_TAIL_RATE:-0.4}
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
if ls .device/whl/*.whl >/dev/null 2>&1 && ! $PY -c "import gguf" 2>/dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .device/whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD:$PWD/training${PYTHONPATH:+:$PYTHONPATH}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null; nproc; $PY -c "import torch,sys;print('torch',torch.__version__,'python',sys.version.split()[0])"; } > "$RUN.hw.txt" 2>&1
cat "$RUN.hw.txt"
$PY -m slm_lsp_train.cli train --preset "$PRESET" --out "$RUN" --time-budget "$TRAIN_S" --total-budget "$TOTAL_S" \
  --max-corpus-mb "$CORPUS_MB" --ftype q8_0 --name slm-fim-40m --quiet ${TOKENIZER:+--tokenizer "$TOKENIZER"} \
  --spm-rate "$SPM_RATE" --line-span-rate "$LINE_SPAN_RATE" --line-tail-rate "$LINE_TAIL_RATE" 2>&1 | tee "$OUT/log.txt"
rc=$?
cp "$RUN.hw.txt" "$RUN/hardware.txt"
$PY - "$RUN" "$OUT" <<'PYEOF'
import sys
from pathlib import Path
from slm_lsp_train.export import split_file
run, out = Path(sys.argv[1]), Path(sys.argv[2])
for g in run.glob("*.gguf"):
    print([p.name for p in split_file(g, 15 * 2**20, out)])
PYEOF
tar czf "$OUT/meta.tar.gz" -C "$RUN" $(cd "$RUN" && ls *.json *.md *.txt 2>/dev/null)
ls -la "$OUT"
exit $rc
