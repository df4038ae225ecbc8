import { defineProject } from 'vitest/config';

// Tests of the scripts here (install.sh, deploy.sh, validate-deployment.sh, the systemd units,
// and the other entry points). They run real shell scripts, a real sshd and systemd-analyze,
// so the timeouts are generous and the files run one after another.
export default defineProject({
  test: {
    name: 'scripts',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
