// fieldsync Field: built into dist/ and served by fieldsync at /app/ (server/reps_app).
import { defineConfig } from 'vite'
import preact from '@preact/preset-vite'
import { VitePWA } from 'vite-plugin-pwa'
import { fileURLToPath } from 'node:url'

const catalogue = fileURLToPath(new URL('../../server/web/static/i18n', import.meta.url))

export default defineConfig({
  base: '/app/',
  define: { __APP_VERSION__: JSON.stringify(`0.1.0 · ${new Date().toISOString().slice(0, 10)}`) },
  resolve: { alias: { '@catalogue': catalogue } },
  server: { fs: { allow: ['..', '../../server/web/static/i18n'] } },
  build: {
    target: 'es2022',
    // No inline module preload polyfill: the CSP forbids inline scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  plugins: [
    preact(),
    VitePWA({
      registerType: 'prompt',
      injectRegister: false, // registered by src/pwa.js (no inline script)
      filename: 'sw.js',
      manifestFilename: 'manifest.webmanifest',
      includeAssets: ['icons/*.png', 'icons/*.svg'],
      manifest: {
        id: '/app/',
        name: 'fieldsync Field',
        short_name: 'Field',
        description: 'Visits, orders and tasks for sales reps, online or not.',
        start_url: '/app/',
        scope: '/app/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#ffffff',
        theme_color: '#0b3d91',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest}'],
        navigateFallback: '/app/index.html',
        navigateFallbackAllowlist: [/^\/app\//],
        cleanupOutdatedCaches: true,
        // The first worker controls the page at once, so "Update now" works in the first session too.
        clientsClaim: true,
        // Never cache the API: the SDK's outbox and local store are the offline data.
        runtimeCaching: [],
      },
    }),
  ],
})
