#!/usr/bin/env bash
# Set up a fresh machine for the tests and run them: one job per distribution, each in its own
# virtual environment holding only that distribution, its dependencies and extras, and its own
# `test` dependency group (never the root's dev group), so a missing declaration fails its own
# job. The lint job also checks every member's imports against its declarations
# (scripts/check_imports.py) and that POSIX-only calls stay in vendor/pmdaemon or behind a
# platform guard (scripts/check_posix.py; docs/windows.md). The fuzz job runs tests/fuzz (the
# seeds of every fuzz target), then fuzzes each target for FUZZ_SECONDS (default 30) with atheris
# and fails on any finding (docs/security.md, "Fuzzing"). Exit 1 if any job fails.
#
#   bash scripts/test.sh            every job
#   bash scripts/test.sh servers    some jobs (lint lib_common servers cli misc json5format pmdaemon e2e fuzz)
set -uo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# System packages the tests need (Debian): chromium for the dashboard's browser test, pgbouncer
# for the transaction-pooling tests, espeak-ng for speech, ALSA headers to build simpleaudio,
# sox to inspect audio; PostgreSQL and Redis server binaries for the tests that run private
# instances (the shared ones on 127.0.0.1 are the machine's); systemd for `systemd-analyze verify`
# of deploy/pmdaemon.service.
APT_PACKAGES=(chromium pgbouncer espeak-ng libespeak-ng1 libasound2-dev sox postgresql redis-server systemd)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" || exit 1
fi
python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install -q uv || exit 1
UV=(python3 -m uv)

# job name → distribution (for its own environment) and test folder
declare -A DIST=([lib_common]=lib-common [servers]=servers [cli]=cli [misc]=misc [json5format]=json5format [pmdaemon]=pmdaemon)
JOBS=("${@:-lint lib_common servers cli misc json5format pmdaemon e2e fuzz}")
JOBS=(${JOBS[*]})

passed=0 failed=0 failed_jobs=()
count() {  # add the counts of pytest's closing line to the totals
  local n
  for n in $(grep -oE '[0-9]+ passed' <<<"$1" | grep -oE '[0-9]+'); do passed=$((passed + n)); done
  for n in $(grep -oE '[0-9]+ (failed|errors?)' <<<"$1" | grep -oE '[0-9]+'); do failed=$((failed + n)); done
}
run_job() {
  local job=$1 log rc
  log=$(mktemp)
  echo "== job $job"
  case $job in
    lint)
      "${UV[@]}" run --all-packages --all-extras --group dev ruff check . &&
        "${UV[@]}" run --all-packages --group dev ruff format --check . &&
        "${UV[@]}" run --all-packages --group dev mypy packages/*/src vendor/*/src &&
        "${UV[@]}" run --all-packages --group dev python scripts/check_workspace.py &&
        "${UV[@]}" run --all-packages --all-extras --group dev python scripts/check_imports.py &&
        "${UV[@]}" run --all-packages --group dev python scripts/check_posix.py
      rc=$?
      ;;
    e2e)
      UV_PROJECT_ENVIRONMENT=.venvs/e2e "${UV[@]}" run --all-packages --all-extras --group dev --exact pytest tests/e2e 2>&1 | tee "$log"
      rc=${PIPESTATUS[0]}
      ;;
    fuzz)
      # Every member (the targets span them all) and the root's fuzz group (atheris, pytest).
      fuzz_env=(env UV_PROJECT_ENVIRONMENT=.venvs/fuzz "${UV[@]}" run --all-packages --no-default-groups --group fuzz --exact)
      "${fuzz_env[@]}" pytest tests/fuzz 2>&1 | tee "$log"
      rc=${PIPESTATUS[0]}
      if [ "$rc" -eq 0 ]; then
        "${fuzz_env[@]}" python -m tests.fuzz all --seconds "${FUZZ_SECONDS:-30}"
        rc=$?
      fi
      ;;
    *)
      [ -n "${DIST[$job]:-}" ] || { echo "unknown job $job"; return 1; }
      # --group names the member's own group (uv reads groups of the --package project).
      UV_PROJECT_ENVIRONMENT=.venvs/$job "${UV[@]}" run --package "${DIST[$job]}" --all-extras \
        --no-default-groups --group test --exact pytest "tests/$job" 2>&1 | tee "$log"
      rc=${PIPESTATUS[0]}
      ;;
  esac
  [ -s "$log" ] && count "$(tail -n 1 "$log")"
  rm -f "$log"
  if [ "$rc" -ne 0 ]; then failed_jobs+=("$job"); fi
  echo "== job $job: exit $rc"
}
for job in "${JOBS[@]}"; do run_job "$job"; done

echo
if [ ${#failed_jobs[@]} -gt 0 ]; then
  echo "failed jobs: ${failed_jobs[*]}"
fi
echo "tests: $passed passed, $failed failed"
[ ${#failed_jobs[@]} -eq 0 ]
