// Every stack of this program passes its environment's policy config, as CI runs it:
// `npm run policy:check -- --stack <stack> --policy-config policy/config/<stack>.json` (exit 0:
// no mandatory violation), in preview (values other resources compute are unknown) and in `up`.
import * as path from "path";
import { policyCheck } from "../../tools/policyRunner/check";
import { describeViolation } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");
const STACKS = ["local", "dev", "staging", "prod"] as const;

describe.each(STACKS)("stack %s", (stack) => {
    test.each([["preview", true], ["up", false]])("has no mandatory violation (%s)", async (_mode, preview) => {
        const result = await policyCheck({ stack, policyConfig: path.join(ROOT, "policy", "config", `${stack}.json`), preview });
        expect(result.notes).toEqual([]);
        expect(result.violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy} ${describeViolation(v)}`)).toEqual([]);
        expect(result.resourceCount).toBeGreaterThan(20);
    });
});

test("the prod stack meets the strictest settings with nothing left advisory but the websocket hint", async () => {
    const result = await policyCheck({ stack: "prod", policyConfig: path.join(ROOT, "policy", "config", "prod.json") });
    expect(result.violations.map((v) => `${v.policy} ${describeViolation(v)}`)).toEqual([]);
});
