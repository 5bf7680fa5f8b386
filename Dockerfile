# probectl-notify worker and API. Node 24 is an LTS line supported until 2028-04.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# Node 24 lets each isolate's young generation grow to 2 × 64 MB on a large host; the worker has two (its main thread
# and the SDK's workflow thread): 16 MB each is what keeps a worker with 10,000 open incidents under 400 MB
# (docs/benchmarks.md, "Where the worker's memory is"). Two malloc arenas keep the SDK core's threads from each
# holding their own. docker-compose.yml's worker sets NODE_OPTIONS itself (with the old-generation cap).
ENV NODE_OPTIONS=--max-semi-space-size=8 MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/migrations ./migrations
USER node
# 8080: the API (/v1, /ingest, /healthz, /readyz, /metrics); 9464: a worker's /metrics when PROBECTL_NOTIFY_METRICS_PORT is set.
EXPOSE 8080 9464
STOPSIGNAL SIGTERM
# The preload applies PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES (off by default) to the SDK's workflow threads: no promise
# hook capturing a stack trace per workflow promise (docs/configuration.md); it changes nothing in the main thread.
ENTRYPOINT ["node", "--require", "/app/dist/runtime/workflow-thread-preload.js", "dist/main.js"]
CMD ["all"]
