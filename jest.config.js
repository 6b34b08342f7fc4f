// Test projects: unit (no database), integration (PGlite, or PostgreSQL when TEST_DATABASE_URL is set),
// addin (Office mocks, fake host in headless Chromium).
const fs = require('node:fs');
const swc = JSON.parse(fs.readFileSync(__dirname + '/.swcrc.json', 'utf8'));
delete swc.$schema;
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest', { ...swc, swcrc: false }] };
// jose 6 ships ES modules only: compile it to CommonJS like our own code.
const common = {
  transform,
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testEnvironment: 'node',
  setupFiles: ['reflect-metadata'],
};

module.exports = {
  // Generous: a hub with the demo data starts in seconds, but CI machines can be slow; no test asserts wall-clock time.
  testTimeout: 120000,
  // In CI a handle some test left open (say, a hub whose start outlived a timed-out hook) must not hold the run
  // until its time limit; locally Jest still reports such handles.
  forceExit: Boolean(process.env.CI),
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/tests/integration/**/*.test.ts'] },
    { ...common, displayName: 'addin', testMatch: ['<rootDir>/tests/addin/**/*.test.ts'] },
  ],
};
