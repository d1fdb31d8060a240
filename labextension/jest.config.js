/**
 * Unit tests run in jsdom and compile TypeScript with ts-jest (CommonJS). The model and widgets import
 * only @lumino packages at run time (they ship UMD), so no ESM transform of node_modules is needed;
 * index.ts, which wires JupyterLab tokens, is left to the browser tests.
 */
module.exports = {
  testEnvironment: "jsdom",
  roots: ["<rootDir>/src"],
  setupFiles: ["<rootDir>/jest.setup.js"],
  testMatch: ["**/__tests__/**/*.spec.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
};
