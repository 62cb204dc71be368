/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    transform: {
        // Type checking is `npm run build` (tsc --noEmit); here ts-jest only transpiles.
        "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
    },
    testTimeout: 120000,
};
