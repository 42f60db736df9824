# Shared helpers for scripts/test and scripts/run-example (sourced, not run).
# Creates .venv from tests/requirements.txt, re-installing only when that file changes.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"

section() { printf '\n\033[1m==== %s ====\033[0m\n' "$*"; }

pick_python() {
    local c
    for c in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 &&
            "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
            echo "$c"
            return 0
        fi
    done
    echo "error: no Python >= 3.10 found (tried \$PYTHON, python3.11 ... python3); install one or set PYTHON=" >&2
    return 1
}

ensure_venv() {
    local py stamp want f
    local reqs=("$REPO_ROOT/tests/requirements.txt")
    stamp="$VENV/.requirements.sha256"
    want="$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)"
    if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        echo "using $VENV ($("$VENV/bin/python" --version)), requirements unchanged"
        return 0
    fi
    py="$(pick_python)"
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$py" -m venv "$VENV" 2>/dev/null; then
            # Debian's own python3 ships venv separately.
            if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
                apt-get update -q && apt-get install -y -q python3-venv
                rm -rf "$VENV"
                "$py" -m venv "$VENV"
            else
                echo "error: '$py -m venv' failed; install python3-venv" >&2
                return 1
            fi
        fi
    fi
    for f in "${reqs[@]}"; do
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$f"
        echo "installed ${f#"$REPO_ROOT"/} into .venv"
    done
    echo "$want" >"$stamp"
}

# Tools the front-end suites use (tests/e2e/test_front_*.py): nginx (uwsgi_pass), h2load
# (bench), openssl (test certificates) from Debian packages, and h2spec built with Go into
# .tools/bin. Each is installed only when missing; without root/apt the tests that need a
# missing tool skip with the reason.
TOOLS_BIN="$REPO_ROOT/.tools/bin"

ensure_front_tools() {
    local pkgs=()
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || pkgs+=(nginx-light)
    command -v h2load >/dev/null 2>&1 || pkgs+=(nghttp2-client)
    command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
    if [ "${#pkgs[@]}" -gt 0 ]; then
        if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
            apt-get update -q &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" ||
                echo "warning: apt-get install ${pkgs[*]} failed; the tests that need them will skip" >&2
        else
            echo "warning: ${pkgs[*]} missing and cannot apt-get install (not root or no apt);" \
                "the tests that need them will skip" >&2
        fi
    fi
    if [ -x "$TOOLS_BIN/h2spec" ]; then
        echo "using $TOOLS_BIN/h2spec"
    elif ! GOBIN="$TOOLS_BIN" go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible 2>&1; then
        echo "warning: go install h2spec failed; the h2spec tests will skip" >&2
    fi
}
