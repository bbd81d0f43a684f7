// Builds the dashboard (`npm run dashboard:build`) into dist/dashboard, which the control plane
// serves at /. `npm run dashboard:dev` serves it with hot reload and sends /graphql (HTTP and
// graphql-ws) to a keygate on 127.0.0.1:4000. Text assets get .gz and .br copies (precompress.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { precompress } from './precompress.ts';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [precompress()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: fileURLToPath(new URL('../../dist/dashboard', import.meta.url)), emptyOutDir: true },
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } } },
});
