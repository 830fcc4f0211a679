import { defineConfig } from 'vitest/config';

// The container test (podman builds and runs the image) takes a core for a minute or more: it runs
// alone, after everything else, so socket-level timing tests never share the machine with it.
const CONTAINER_TEST = 'test/deploy/container.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two cores on CI: keep parallelism modest so socket-level timing tests stay honest.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: [CONTAINER_TEST], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'container', include: [CONTAINER_TEST], sequence: { groupOrder: 1 } } },
    ],
  },
});
