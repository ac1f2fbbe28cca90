#!/usr/bin/env bash
# The Dockerfile's steps in a shell, for machines without a container engine: build and pack
# the package, make the serving-only install of the `base` stage in a temporary folder (npm
# install --omit=dev of the tarball and docker/package.json), report its node_modules size,
# start the server from it with plain node (no tsx) on a model, run the HEALTHCHECK command,
# query it, and stop it with SIGTERM as `docker stop` would.
#
#   bash scripts/docker-steps.sh [model.hrec]     (default: a small synthetic model fitted by the packed CLI)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

echo "== build stage: tsup + npm pack"
(cd "$repo" && npx tsup >/dev/null && npm pack --pack-destination "$work" >/dev/null 2>&1)
mv "$work"/hybridrec-*.tgz "$work/hybridrec.tgz"

echo "== base stage: serving-only install"
mkdir "$work/app"
cp "$repo/docker/package.json" "$work/app/package.json"
(cd "$work/app" && NODE_ENV=production npm install --omit=dev --no-audit --no-fund "$work/hybridrec.tgz" >/dev/null 2>&1)
echo "node_modules: $(du -sh --apparent-size "$work/app/node_modules" | cut -f1) apparent, $(du -sh "$work/app/node_modules" | cut -f1) on disk"
for dir in @tensorflow @huggingface fastify @fastify prom-client hybridrec graphology ml-matrix; do
  [ -e "$work/app/node_modules/$dir" ] && echo "  $dir: $(du -sh --apparent-size "$work/app/node_modules/$dir" | cut -f1)"
done
without_tf=$(du -s --apparent-size -k "$work/app/node_modules" | cut -f1)
tf=$(du -s --apparent-size -k "$work/app/node_modules/@tensorflow" 2>/dev/null | cut -f1 || echo 0)
echo "  without @tensorflow: $(( (without_tf - ${tf:-0}) / 1024 )) MiB"

cli="$work/app/node_modules/hybridrec/dist/cli.js"
model="${1:-}"
if [ -z "$model" ]; then
  model="$work/model.hrec"
  node "$cli" fit --synthetic --users 300 --products 200 --strategies repeat,itemknn,rules --weights equal -o "$model" -q
fi

echo "== entrypoint: node dist/cli.js serve (plain node, no tsx)"
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
node "$cli" serve "$model" --host 127.0.0.1 --port "$port" --workers 2 2>"$work/server.log" &
server=$!
for _ in $(seq 1 100); do grep -q "serving" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
cat "$work/server.log"

echo "== HEALTHCHECK"
node -e "fetch('http://127.0.0.1:$port/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && echo "healthy"
node -e "fetch('http://127.0.0.1:$port/popular?k=3').then((r) => r.json()).then((b) => console.log('popular:', b.items.map((x) => x.name).join(', ')))"
node -e "fetch('http://127.0.0.1:$port/docs/json').then((r) => r.json()).then((d) => console.log('openapi', d.openapi, Object.keys(d.paths).length, 'paths'))"

echo "== docker stop (SIGTERM)"
kill -TERM "$server"
wait "$server" && echo "exited 0"
tail -1 "$work/server.log"
server=0
