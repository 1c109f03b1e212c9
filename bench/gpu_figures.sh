#!/bin/sh
# Every GPU figure docs/performance.md asks for, in one run on a CUDA machine with the project set
# up (./setup.sh), each part bounded in time so that one slow part cannot eat the others' time:
#   the GPU-marked tests; bench/gpu.sh (GPT tokens/s, SoVITS RTF: fp32/fp16/bf16 against the in-run
#   baselines); end-to-end RTF in fp32 and fp16; `gsv serve` first-audio per streaming mode; SoVITS
#   (v2Pro) and GPT training samples/s and peak memory at several batch sizes, fp16 loss scaling;
#   formatting clips/s on the GPU with 2 processes against the CPU.
# Usage: sh bench/gpu_figures.sh [OUT_DIR]    (QUICK=1: tiny sizes, for a dry run on a CPU)
out=${1:-gpu-figures}
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || py=python3
mkdir -p "$out"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# The text frontend's data (the synthesis benches read English and Chinese): GSV_FRONTEND_DATA, else a
# copy in the checkout (.frontend-data, for a machine that reaches no network), else the one beside it.
if [ -z "$GSV_FRONTEND_DATA" ]; then
  for d in .frontend-data ../shared/frontend-data; do
    [ -d "$d" ] && { GSV_FRONTEND_DATA=$(cd "$d" && pwd); export GSV_FRONTEND_DATA; break; }
  done
fi
echo "text data: ${GSV_FRONTEND_DATA:-none (synthesis benches will stop)}" > "$out/summary.txt"
if [ -n "$QUICK" ]; then
  device=cpu; tiny=--tiny; sov_batches=1; gpt_batches=2; steps=1; runs=1; tokens=25
else
  device=cuda; tiny=; sov_batches=2,8,16,32; gpt_batches=2,8,32; steps=5; runs=3; tokens=150
fi

part() {  # part NAME SECONDS COMMAND...: run one part, its output in OUT/NAME.log, never longer than SECONDS
  name=$1 limit=$2; shift 2
  start=$(date +%s)
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  rc=$?
  echo "$name: exit $rc in $(( $(date +%s) - start )) s" | tee -a "$out/summary.txt"
}

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"; \
  $py -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"; } > "$out/machine.txt"
part gpu-tests 150 $py -m pytest -q -m gpu -p no:cacheprovider tests
part gpu-bench 180 env PYTHON="$py" DEVICE=$device RUNS=$runs sh bench/gpu.sh "$out/gpu"
for precision in fp32 fp16; do
  part "infer-$precision" 90 $py bench/infer_rtf.py --device $device --precision $precision --runs $runs --tokens $tokens
done
part serve-latency 150 $py bench/serve_latency.py --device $device --runs $runs --tokens $tokens
part train-sovits 150 $py bench/train_sovits.py --version v2Pro --batch-sizes $sov_batches --steps $steps $tiny --json
part train-gpt 90 $py bench/train_gpt.py --batch-sizes $gpt_batches --steps $((steps * 2)) $tiny --json
if [ -n "$QUICK" ]; then
  part format 120 $py bench/format_throughput.py --clips 4 --workers 2 --json
else
  part format 120 $py bench/format_throughput.py --clips 48 --workers 2 --gpu --json
fi
cat "$out/summary.txt"
