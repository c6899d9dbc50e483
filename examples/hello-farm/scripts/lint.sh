#!/bin/sh
# Every script starts with a shebang and sets -eu.
set -eu
for f in scripts/*.sh; do
  head -n 1 "$f" | grep -q '^#!/bin/sh' || { echo "$f: no #!/bin/sh"; exit 1; }
  grep -q 'set -eu' "$f" || { echo "$f: no set -eu"; exit 1; }
done
echo "lint: $(ls scripts/*.sh | wc -l | tr -d ' ') scripts ok"
