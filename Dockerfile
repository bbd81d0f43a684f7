# keygate: one image for every run mode (start, control-plane, proxy, migrate, mock-upstream).
FROM node:20-bookworm-slim
ENV NODE_ENV=production KEYGATE_HOST=0.0.0.0 KEYGATE_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund --include=dev && npm cache clean --force
COPY . .
RUN mkdir -p /data && chown node /data
USER node
EXPOSE 4000 8080
ENTRYPOINT ["node", "bin/keygate.mjs"]
CMD ["start"]
