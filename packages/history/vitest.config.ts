import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'history',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 20_000,
  },
});
