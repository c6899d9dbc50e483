#!/bin/sh
# Checks build's output, which reached this workspace as build's artifact.
set -eu
mkdir -p reports
grep -q "hello-farm" dist/greeting.txt
[ "$(cat dist/SIZE)" -gt 0 ]
echo "2 checks passed" | tee reports/test-summary.txt
