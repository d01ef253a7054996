#!/usr/bin/env bash
# Checks the launcher's JDK discovery: with no usable JAVA_HOME and an empty JVM folder
# (PERDURA_JVM_DIR), it must fail with a message naming what it looked for.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
empty="$(mktemp -d)"
trap 'rm -rf "$empty"' EXIT
set +e
output="$(JAVA_HOME=/nonexistent PERDURA_JVM_DIR="$empty" ./perdura server --help 2>&1)"
status=$?
set -e
if [[ $status -eq 0 ]]; then
  echo "launcher-test: expected a failure without a JDK, got success" >&2
  exit 1
fi
for expected in "/nonexistent" "$empty" "21"; do
  if [[ "$output" != *"$expected"* ]]; then
    echo "launcher-test: the error does not mention '$expected': $output" >&2
    exit 1
  fi
done
echo "launcher-test: ok ($output)"
