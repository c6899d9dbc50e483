#!/bin/sh
# "Compiles" the app: stamps the greeting with the app name and a build number.
set -eu
mkdir -p dist
sed "s/build farm/build farm ($APP_NAME)/" src/greeting.txt > dist/greeting.txt
wc -c < dist/greeting.txt | tr -d ' ' > dist/SIZE
echo "built dist/greeting.txt ($(cat dist/SIZE) bytes)"
