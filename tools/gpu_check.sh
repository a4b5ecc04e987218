#!/usr/bin/env bash
# GPU checks of construct: one run, under 10 minutes on one H200. Downloads nothing.
#
# HOW TO RUN
#   1. Once, on a machine that reaches PyPI, in the repository root: put the packages that the GPU image lacks
#      into .whl/ (ignored by git, about 13 MB). pydensecrf2 has no wheel on PyPI: its source is built there.
#        echo /.whl/ >> .git/info/exclude
#        python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#          --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#          --platform manylinux1_x86_64 -d .whl \
#          nbdev==2.4.14 fastcore==1.12.47 execnb==0.1.18 ghapi==1.1.1 fastgit==0.1.4 astunparse==1.6.3 watchdog==7.1.0 \
#          ipython==9.18.1 ipython-pygments-lexers==1.1.1 traitlets==5.16.1 jedi==0.20.1 parso==0.8.7 \
#          matplotlib-inline==0.2.2 pexpect==4.9.0 ptyprocess==0.7.0 prompt-toolkit==3.0.53 wcwidth==0.9.4 \
#          stack-data==0.6.3 asttokens==3.0.2 executing==2.3.0 pure-eval==0.2.4 \
#          ipywidgets==8.1.9 comm==0.2.3 widgetsnbextension==4.0.16 jupyterlab-widgets==3.0.17 \
#          open-clip-torch==3.3.0 ftfy==6.3.1 conch-fork==0.1.0 Cython==0.29.36
#        python3 -m pip download --no-deps --no-binary=:all: -d .whl pydensecrf2==1.1
#      The build leaves its wheel in $OUT/wheels/: copy it into .whl/ and later runs skip the build (a minute or two).
#   2. On the GPU machine (the device tool's `run`, carry [".whl"], timeout_s 600):
#        bash tools/gpu_check.sh
#      Anywhere else: OUT=./gpu_out bash tools/gpu_check.sh  (packages already installed: no .whl/ needed).
#
# WHAT IT RUNS, in this order; each step has a time limit, and a failing step does not stop the next:
#   install    the wheels of .whl/ (WHEELS=...) into /tmp/construct-site, no index; builds pydensecrf2 from its source
#   nbdev_test --flags gpu on every notebook with a cell that it runs (`#| gpu` and no other test flag; cells also
#              flagged bcss need the data set), the notebooks in parallel
#   bench_crf  ms/tile of both dense-CRF implementations at 224², 512², 1024², on the CPU and on CUDA
#              (construct.bench.bench_crf)                                      → $OUT/bench_crf.json, .md
#   bench      construct bench --devices cuda --sizes tiny full: training img/s, inference img/s without the CRF and
#              with each CRF implementation, CRF ms/tile, peak GPU memory       → $OUT/bench.json, .md
# Outputs (all under $OUT, default ./gpu_out; at most 8 files): summary.txt (machine, each step's status and time,
# the tables), log.txt (every step's output), bench*.json/.md, wheels/pydensecrf2-*.whl (when built).
# Exit status 0 when every step passed. Environment: PYTHON (default python3), WHEELS (.whl), BUDGET_S (570),
# CONSTRUCT_BENCH_STEPS (30: training steps of the paper-size throughput benchmark in 30_reproduce_table2).
set -u -o pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-./gpu_out}; mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd); export OUT
PY=${PYTHON:-python3}
WHEELS=${WHEELS:-.whl}
SITE=/tmp/construct-site
START=$(date +%s); BUDGET=${BUDGET_S:-570}
export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}" PATH="$SITE/bin:$PATH"
export IPYTHONDIR=/tmp/construct-ipython MPLBACKEND=Agg PYTHONHASHSEED=0 PYTHONUNBUFFERED=1
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
export CONSTRUCT_BENCH_STEPS=${CONSTRUCT_BENCH_STEPS:-30}
SUMMARY=$OUT/summary.txt LOG=$OUT/log.txt
: >"$SUMMARY"; : >"$LOG"
FAILED=0

left() { echo $((START + BUDGET - $(date +%s))); }
say() { echo "$*" | tee -a "$SUMMARY"; }

# step NAME LIMIT_S FUNCTION: run the function in a fresh bash (so that `timeout` can stop it and everything it started)
# with at most LIMIT_S seconds, less when the budget is nearly spent; its output goes to log.txt
step() {
  local name=$1 limit=$2 fn=$3
  local t=$(( $(left) - 10 )); (( t > limit )) && t=$limit
  if (( t < 30 )); then say "SKIP  $name (time budget spent)"; FAILED=1; return; fi
  echo "===== $name (limit ${t}s) =====" >>"$LOG"
  local t0=$(date +%s) rc
  timeout --kill-after=15 "$t" bash -c "$fn" >>"$LOG" 2>&1; rc=$?
  local dt=$(( $(date +%s) - t0 ))
  if (( rc == 0 )); then say "OK    $name (${dt}s)"
  elif (( rc == 124 || rc == 137 )); then say "TIME  $name: stopped after ${dt}s"; FAILED=1
  else say "FAIL  $name (exit $rc, ${dt}s): see log.txt"; FAILED=1; fi
}

install() {
  if [[ ! -d $WHEELS ]]; then echo "no $WHEELS/: using the packages already installed"; return 0; fi
  mkdir -p "$SITE"
  shopt -s nullglob; local whls=("$WHEELS"/*.whl) sdist=("$WHEELS"/pydensecrf2-*.tar.gz); shopt -u nullglob
  (( ${#whls[@]} )) && { "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" "${whls[@]}" || return 1; }
  if ! "$PY" -c 'import pydensecrf.densecrf' 2>/dev/null; then
    (( ${#sdist[@]} )) || { echo "pydensecrf2 is missing: no wheel and no pydensecrf2-*.tar.gz in $WHEELS/"; return 1; }
    echo "building pydensecrf2 from ${sdist[0]} (Cython 0.29.36 from $WHEELS/) ..."
    "$PY" -m pip wheel -q --no-index --no-deps --no-build-isolation -w "$OUT/wheels" "${sdist[0]}" || return 1
    "$PY" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$OUT"/wheels/pydensecrf2-*.whl || return 1
  fi
  "$PY" - <<'EOF'
import importlib.metadata as md, torch, construct, nbdev, pydensecrf.densecrf, open_clip
print('torch', torch.__version__, '| CUDA', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-')
print(', '.join(f"{p} {md.version(p)}" for p in ('nbdev', 'fastcore', 'execnb', 'pydensecrf2', 'open_clip_torch', 'numpy', 'transformers', 'timm')))
EOF
}

bench_crf() {
  "$PY" - <<'EOF'
import os
from construct.bench import bench_crf, write_bench
from construct.core import markdown_table
df = bench_crf(devices=['cpu', 'cuda'])
print(markdown_table(df))
print('wrote', write_bench(df, os.path.join(os.environ['OUT'], 'bench_crf.json')))
EOF
}

bench() {
  "$PY" -c 'import sys; from construct.cli import main; sys.exit(main(sys.argv[1:]))' \
    bench --devices cuda --sizes tiny full --out "$OUT/bench.json"
}

# the notebooks with a cell that `--flags gpu` runs (flagged gpu and with no other test flag: cells also flagged bcss
# need the data set and stay skipped), each in its own nbdev_test, all at once; their lines go to log.txt as they come,
# prefixed by the notebook's name (a step stopped by its time limit keeps what they printed)
gpu_notebooks() {
  "$PY" - <<'PY'
import configparser, json, pathlib, re, sys
cfg = configparser.ConfigParser(interpolation=None); cfg.read('settings.ini')
test_flags = set(cfg['DEFAULT'].get('tst_flags', 'gpu').split())
for nb in sorted(pathlib.Path('nbs').glob('*.ipynb')):
    code = [''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code']
    flags = [set(re.findall(r'^#\|\s*(\w+)\s*$', src, re.M)) & test_flags for src in code]
    if {'gpu'} in flags: print(nb)
    elif any('gpu' in f for f in flags): print(f"not run: {nb}: its gpu cells also need {sorted(set().union(*flags) - {'gpu'})}", file=sys.stderr)
PY
}

nbdev_test_gpu() {
  local nbs=() pids=() rc=0 i
  mapfile -t nbs < <(gpu_notebooks)
  echo "notebooks with cells that --flags gpu runs: ${nbs[*]}"
  for i in "${!nbs[@]}"; do
    ( nbdev_test --path "${nbs[$i]}" --flags gpu --n_workers 0 --do_print --timing 2>&1 | sed -u "s|^|[${nbs[$i]##*/}] |"
      exit "${PIPESTATUS[0]}" ) &
    pids+=($!)
  done
  for i in "${!nbs[@]}"; do
    if wait "${pids[$i]}"; then say "  pass ${nbs[$i]}"; else say "  FAIL ${nbs[$i]}"; rc=1; fi
  done
  return $rc
}

export -f left say install bench_crf bench gpu_notebooks nbdev_test_gpu
export ROOT PY WHEELS SITE START BUDGET SUMMARY LOG

commit=$(git rev-parse --short HEAD 2>/dev/null) && { git diff --quiet HEAD 2>/dev/null || commit+=' + uncommitted changes'; } || commit='? (no git)'
say "construct GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
say "$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'nvidia-smi: not available')"
step install 300 install
step nbdev_test 300 nbdev_test_gpu
step bench_crf 150 bench_crf
step bench 200 bench
for f in bench_crf bench; do [[ -f $OUT/$f.md ]] && { echo; echo "$f:"; cat "$OUT/$f.md"; } >>"$SUMMARY"; done
say "total $(( $(date +%s) - START ))s; $( ((FAILED)) && echo 'SOME STEPS FAILED' || echo 'all steps passed')"
exit $FAILED
