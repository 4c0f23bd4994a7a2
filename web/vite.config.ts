import { defineConfig } from 'vite';

const root = decodeURIComponent(new URL('.', import.meta.url).pathname);

/**
 * One SPA for /dashboard/*, /portal/* and /portal/embed: the server answers those paths with index.html and
 * serves the hashed files under /assets/*. `npm run dev:web` proxies the API to a server on :8080.
 */
export default defineConfig(({ command }) => ({
  root,
  base: '/',
  // Test runners export NODE_ENV=test; a build must still get React's production bundle.
  define: command === 'build' ? { 'process.env.NODE_ENV': JSON.stringify('production') } : {},
  publicDir: 'public',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      // lucide-react marks its modules "use client" (a React Server Components hint that means nothing in an SPA).
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    proxy: Object.fromEntries(
      ['/organizations', '/audit_logs', '/log_streams', '/api_keys', '/usage', '/portal/api', '/portal/generate_link', '/portal/launch', '/dashboard/api', '/openapi.json'].map((path) => [
        path,
        { target: 'http://127.0.0.1:8080', changeOrigin: false },
      ]),
    ),
  },
}));
