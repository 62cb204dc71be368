// Dependencies published only as ES modules (the drills' Kubernetes client and what it imports).
const ESM_ONLY = ["@kubernetes/client-node", "openid-client", "oauth4webapi", "jose"];

/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    transform: {
        // Type checking is `npm run build` (tsc --noEmit); here ts-jest only transpiles.
        "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
        // @kubernetes/client-node 1.x and the OIDC libraries it imports are ES modules only; jest 29
        // loads CommonJS: transpile them too (cached after the first run).
        "/node_modules/.+\\.js$": ["ts-jest", { diagnostics: false, tsconfig: { allowJs: true, isolatedModules: true } }],
    },
    transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join("|")})/)`],
    // Two cores run the engine, the control plane and the mock runs side by side: a mock run of a
    // stack can take minutes under that load.
    testTimeout: 300000,
};
