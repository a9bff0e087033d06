# syntax=docker/dockerfile:1
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8443 \
    SGW_DATA_DIR=/var/lib/sgw SGW_CERTS_DIR=/etc/sgw/certs SGW_POLICIES_DIR=/app/policies
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY policies ./policies
RUN mkdir -p /var/lib/sgw /etc/sgw/certs && chown -R node:node /var/lib/sgw /etc/sgw
USER node
EXPOSE 8443
VOLUME ["/var/lib/sgw", "/etc/sgw/certs"]
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "require('https').get({host:'127.0.0.1',port:process.env.PORT,path:'/health/live',ca:require('fs').readFileSync(process.env.SGW_CERTS_DIR+'/ca.crt')},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
