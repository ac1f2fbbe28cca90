# syntax=docker/dockerfile:1
# The hybridrec HTTP server. Two targets:
#   serve (default): the model is mounted at /models/model.hrec
#     docker build -t hybridrec .
#     docker run --rm -p 8080:8080 -v "$PWD/model.hrec:/models/model.hrec:ro" hybridrec
#   serve-baked: the model is copied into the image (model.hrec in the build context)
#     docker build --target serve-baked -t hybridrec:baked .
# Extra flags go after the image name (e.g. --workers 4 --cors https://shop.example).
# docker stop sends SIGTERM: requests in flight finish, then the server exits 0;
# `docker kill -s HUP` reloads /models/model.hrec without dropping a request.
# scripts/docker-steps.sh runs the same steps in a shell where no container engine is available.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile the package and pack it exactly as npm would publish it
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsup.config.ts README.md ./
COPY docs ./docs
COPY src ./src
RUN npx tsup && npm pack --pack-destination /tmp && mv /tmp/hybridrec-*.tgz /tmp/hybridrec.tgz

# ---- base: a serving-only install (the packed library and the server's optional peers), no compiler, no sources
FROM ${NODE_IMAGE} AS base
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /tmp/hybridrec.tgz /tmp/hybridrec.tgz
COPY docker/package.json ./package.json
RUN npm install --omit=dev --no-audit --no-fund /tmp/hybridrec.tgz \
 && rm /tmp/hybridrec.tgz && npm cache clean --force \
 && mkdir -p /models && chown node:node /models
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# In a container the server must listen beyond loopback; the published port decides who reaches it.
ENTRYPOINT ["node", "/app/node_modules/hybridrec/dist/cli.js", "serve", "/models/model.hrec", "--host", "0.0.0.0", "--port", "8080"]

# ---- serve-baked: the model inside the image
FROM base AS serve-baked
COPY --chown=node:node model.hrec /models/model.hrec

# ---- serve (default): mount the model at /models/model.hrec
FROM base AS serve
