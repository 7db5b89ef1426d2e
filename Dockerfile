# kproxy: one image for the bot and the workers (choose with the command).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# npm run build also bundles the CLI (dist/bundle/) with this script.
COPY scripts/bundle-cli.mjs ./scripts/
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# Non-root, read-only friendly: nothing is written under /app at run time.
USER node
EXPOSE 3000
# `node dist/bot/main.js` (bot), `node dist/workers/main.js` (worker), or both:
CMD ["node", "dist/start.js"]
