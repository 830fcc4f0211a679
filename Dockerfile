# tracecar sidecar image. Build: docker build -t tracecar .
# (podman: deploy/container-test.sh builds and runs this file unchanged; docs/deploy.md has the flags.)
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# The build reads the schema: scripts/compile-schema.mjs turns it into the validator tracecar runs.
COPY config/schema.json ./config/schema.json
# Compile, drop dev dependencies, then drop what only a compiler or debugger reads: type declarations
# (including @types/node, which a production dependency lists) and source maps.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@types \
 && find dist node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete

FROM node:22-bookworm-slim
# TRACECAR_HEALTH_FILE: the running sidecar writes its bound addresses there, so the HEALTHCHECK's
# `tracecar health` probes the right ports even when they were set with flags (`--no-admin`, `--port`).
ENV NODE_ENV=production \
    TRACECAR_HEALTH_FILE=/tmp/tracecar-health.json
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
# The base image's "node" user, by number so Kubernetes' runAsNonRoot can verify it is not root.
USER 1000:1000
# ingress, egress forward proxy, admin (admin binds 127.0.0.1 unless TRACECAR_ADMIN says otherwise)
EXPOSE 8080 15001 9901
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s CMD ["node", "dist/cli/main.js", "health"]
# No default command: give the app with --target URL (or TRACECAR_TARGET), or a file with --config.
ENTRYPOINT ["node", "dist/cli/main.js"]
