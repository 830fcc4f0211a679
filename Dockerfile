# tracecar sidecar image. Build: docker build -t tracecar .
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
USER node
# ingress, egress forward proxy, admin (admin binds 127.0.0.1 unless TRACECAR_ADMIN says otherwise)
EXPOSE 8080 15001 9901
HEALTHCHECK --interval=10s --timeout=2s CMD node -e "fetch('http://127.0.0.1:9901/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["--config", "/app/config/tracecar.yaml"]
