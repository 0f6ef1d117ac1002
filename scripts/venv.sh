#!/usr/bin/env bash
# Create .venv with Python 3.10 and install snnc with every extra (lava, torch, onnx, spinnaker,
# dev). Idempotent: does nothing when .venv is already installed from this pyproject.toml.
# lava-nc 0.10.0 needs exactly Python 3.10; set PYTHON=/path/to/python3.10 to choose one.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.snnc-installed

is_py310() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

find_python() {
    local candidates=("${PYTHON:-}" python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10)
    candidates+=("$HOME"/.pyenv/versions/3.10*/bin/python3.10)
    for python in "${candidates[@]}"; do
        if is_py310 "$python"; then echo "$python"; return; fi
    done
    if command -v uv >/dev/null && uv python install 3.10 >&2; then uv python find 3.10; return; fi
    echo "scripts/venv.sh: no Python 3.10 found (lava-nc 0.10.0 needs 3.10); set PYTHON=..." >&2
    exit 1
}

# The HTML report's test opens the page in headless Chromium (Debian's package): install it
# where this runs as root with apt (as CI does); elsewhere the test skips without it.
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium (apt) for the HTML report test" >&2
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
        > /tmp/snnc-chromium-install.log 2>&1 ||
        { tail -n 20 /tmp/snnc-chromium-install.log >&2; echo "scripts/venv.sh: chromium install failed" >&2; exit 1; }
fi

if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then exit 0; fi
if ! is_py310 .venv/bin/python; then
    rm -rf .venv
    python=$(find_python)
    echo "creating .venv with $python" >&2
    "$python" -m venv .venv
fi
echo "installing snnc with all extras into .venv (first time: a few minutes, ~6 GB)" >&2
log=.venv/install.log
if ! { .venv/bin/python -m pip install --upgrade pip &&
       .venv/bin/python -m pip install -e '.[all]'; } > "$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "scripts/venv.sh: installation failed; full log in $log" >&2
    exit 1
fi
touch "$stamp"
