#!/usr/bin/env bash
# Runs inside the new conda env on a GPU node, from the checkout: CUDA builds of
# llama.cpp and DeepSpeed's fused ops.
set -euo pipefail
CMAKE_ARGS="-DGGML_CUDA=on" pip install --no-binary llama-cpp-python "llama-cpp-python[server]>=0.3.2,<0.4"
pip install -e ".[deepspeed]"
