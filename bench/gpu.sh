#!/bin/sh
# The model core's GPU figures in one run, for a CUDA machine (the two benches need only torch and
# numpy, so a stock PyTorch image runs them without installing this project):
#   GPT tokens/s (150 tokens after a 75-phoneme text and a 75-token prompt) in fp32, fp16, bf16;
#   SoVITS RTF (150 codes -> 6 s) in fp32 and fp16 (the official is_half), plus the bf16 vocoder;
#   each against its in-run official-scheme baseline, outputs compared.
# Usage: sh bench/gpu.sh [OUT_DIR]     (DEVICE=cpu DTYPES=float32 RUNS=1 for a quick dry run)
out=${1:-bench-gpu}
py=${PYTHON:-python3}
device=${DEVICE:-cuda}
runs=${RUNS:-3}
mkdir -p "$out"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"; \
  $py -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"; } > "$out/machine.txt"
for dtype in ${DTYPES:-float32 float16 bfloat16}; do
  $py bench/gpt_tokens.py --device "$device" --dtype "$dtype" --runs "$runs" --threads 4 \
    --json "$out/gpt_$dtype.json" > "$out/gpt_$dtype.log" 2>&1 || echo "gpt $dtype: see $out/gpt_$dtype.log"
done
$py bench/sovits_rtf.py --device "$device" --runs "$runs" --bf16 --json "$out/sovits_fp32.json" \
  > "$out/sovits_fp32.log" 2>&1 || echo "sovits fp32: see $out/sovits_fp32.log"
if [ "$device" != cpu ]; then
  $py bench/sovits_rtf.py --device "$device" --half --runs "$runs" --json "$out/sovits_fp16.json" \
    > "$out/sovits_fp16.log" 2>&1 || echo "sovits fp16: see $out/sovits_fp16.log"
fi
ls -l "$out"
