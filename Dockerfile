# syntax=docker/dockerfile:1
# Sealpost: one image for every service (`sealpost start gateway|worker|webmail`); docs/deploy.md.
# test/integration/container-commands.test.ts runs this file's npm commands and checks its COPY sources.

# --- build: every dependency, then the pickup and console bundles (vite) ---------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles here when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:web

# --- runtime: production dependencies only, the sources (run by tsx), the built bundles, not root -------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
  SEALPOST_DATA_DIR=/var/lib/sealpost \
  SEALPOST_LISTEN_HOST=0.0.0.0 \
  SEALPOST_HTTP_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force \
  && apt-get purge -y python3 make g++ && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY bin ./bin
COPY cli ./cli
COPY core ./core
COPY gateway ./gateway
COPY keys ./keys
COPY worker ./worker
COPY --from=build /app/webmail ./webmail
RUN mkdir -p /var/lib/sealpost && chown node:node /var/lib/sealpost
USER node
VOLUME ["/var/lib/sealpost"]
# submission (STARTTLS), submission over TLS, inbound (the practice's MX), HTTP (webmail, /readyz, /metrics)
EXPOSE 2587 2465 2525 8080
ENTRYPOINT ["node", "bin/sealpost.mjs"]
CMD ["start"]
