import { defineConfig } from 'vitest/config';

// One root config: `npx vitest` here runs every package's project.
// `npm test` runs them package by package through turbo instead.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'scripts'],
  },
});
