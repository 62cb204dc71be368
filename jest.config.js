/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    transform: {
        // Type checking is `npm run build` (tsc --noEmit); here ts-jest only transpiles.
        "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
    },
    // Two cores run the engine, the control plane and the mock runs side by side: a mock run of a
    // stack can take minutes under that load.
    testTimeout: 300000,
};
