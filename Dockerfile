# skr: secure key release sidecar for confidential containers (AMD SEV-SNP).

# ---- build: compilers for the native addon and better-sqlite3/pkcs11js, TypeScript ----------
FROM node:20-bookworm AS build
WORKDIR /app
# node-gyp builds against the headers of the Node in this image instead of downloading them.
ENV npm_config_nodedir=/usr/local
# Dependencies first, so a source change does not reinstall them. The native dependencies are
# built explicitly; --ignore-scripts keeps prepare (tsc) from running before src/ is copied.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 pkcs11js
COPY binding.gyp tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY scripts ./scripts
RUN npm run build:native \
 && npm run build \
 && npm prune --omit=dev

# ---- runtime: Node 20 slim with only what the CLI loads --------------------------------------
FROM node:20-bookworm-slim AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="skr" \
      org.opencontainers.image.description="Secure key release sidecar for confidential containers (AMD SEV-SNP, Azure Attestation and Key Vault compatible)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"
# The sidecar keeps its VCEK cache under SKR_STATE_DIR; after start-up it runs as nobody, which can
# create a directory in /tmp but not under /app.
ENV NODE_ENV=production SKR_STATE_DIR=/tmp/skr
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/build/Release/sevguest.node ./build/Release/sevguest.node

# There is deliberately no USER instruction. Opening the TEE device (/dev/sev-guest, /dev/sev
# or configfs-tsm) needs root, and ACI confidential groups accept no securityContext but
# "privileged" to arrange anything else. So the process starts as root only to open the device
# and the sidecar then drops privileges to `--user nobody` before it serves a request.
EXPOSE 8080
# slim has no curl; Node's fetch asks the sidecar itself (SKR_PORT when set, else 8080).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SKR_PORT||8080)+'/status').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/skr.js", "sidecar"]
