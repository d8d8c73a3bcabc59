import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The client lives in client/ and is built to dist/client, which the Fastify
// server serves. `npm run dev` runs Vite's dev server with this config and
// proxies the API and socket.io to the server (see scripts/dev.mjs).
const apiPort = Number(process.env.API_PORT ?? 3001);

export default defineConfig({
  root: 'client',
  plugins: [react()],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    // Source maps carry the whole client source; built only on request
    // (SOURCEMAP=1 npm run build), and never served by the server.
    sourcemap: process.env.SOURCEMAP === '1',
    // Two pages: the chat (index.html) and the operations page (ops.html, served at /ops behind OPS_TOKEN).
    rolldownOptions: {
      input: { main: fileURLToPath(new URL('client/index.html', import.meta.url)), ops: fileURLToPath(new URL('client/ops.html', import.meta.url)) },
    },
  },
  server: {
    port: Number(process.env.PORT ?? 3000),
    proxy: {
      '/api': `http://127.0.0.1:${apiPort}`,
      '/healthz': `http://127.0.0.1:${apiPort}`,
      '/socket.io': { target: `http://127.0.0.1:${apiPort}`, ws: true },
    },
  },
});
