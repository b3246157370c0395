#!/usr/bin/env bash
# Installs dralab with the CUDA backend (@tensorflow/tfjs-node-gpu), in the conda
# environment of environment.yml (activated, LD_LIBRARY_PATH set). Works with the npm that
# comes with Node 20 (npm 10) and with npm 11:
#   - npm 11 runs no install script it was not told to allow, so tfjs-node-gpu's (which
#     downloads libtensorflow) is approved first;
#   - npm 10 has no `install-scripts` command and runs install scripts as it installs.
# Then tfjs-node-gpu is rebuilt, which runs its install script in either case.
# DRALAB_NPM names the npm to use (default: npm); extra arguments go to each npm call
# (the tests pass --ignore-scripts to walk the steps without downloading).
set -euo pipefail
npm_cmd=(${DRALAB_NPM:-npm})
"${npm_cmd[@]}" install "$@"
major=$("${npm_cmd[@]}" --version | cut -d. -f1)
if [ "$major" -ge 11 ]; then
  "${npm_cmd[@]}" install-scripts approve @tensorflow/tfjs-node-gpu
fi
"${npm_cmd[@]}" rebuild @tensorflow/tfjs-node-gpu "$@"
echo "gpu-setup: done with npm $("${npm_cmd[@]}" --version); check with: npx dralab info  (backend: node-gpu)"
