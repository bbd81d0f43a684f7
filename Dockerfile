# keygate: one image for every run mode (start, control-plane, proxy, migrate, mock-upstream).
FROM node:24-bookworm-slim
ENV NODE_ENV=production KEYGATE_HOST=0.0.0.0 KEYGATE_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY prisma.config.ts ./
# Install scripts run after the sources are in: they generate the Prisma client and build the dashboard.
RUN npm ci --no-audit --no-fund --include=dev --ignore-scripts && npm cache clean --force
COPY . .
RUN npm run -s prisma:generate && npm run -s dashboard:build
RUN mkdir -p /data && chown node /data
USER node
EXPOSE 4000 8080
ENTRYPOINT ["node", "bin/keygate.mjs"]
CMD ["start"]
