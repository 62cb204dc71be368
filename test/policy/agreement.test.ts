// What the program and the policy pack must agree on, checked from both real sides: the program's
// stack config (parseConfig on the real stack files) and the pack's policies under each stack's
// own policy config, reconciled as the CLI does. A stack the program accepts must not be refused
// by a mandatory policy, and what the program refuses the pack must not let through.
import type { Policy } from "@pulumi/policy";
import * as path from "path";
import { parseConfig } from "../../config";
import { hpaBounds } from "../../policy/rules/hpa";
import { workloadImmutableImage, workloadMinReplicas } from "../../policy/rules/workloads";
import { loadPolicyConfigFile, reconcilePolicyConfig } from "../../tools/policyRunner/config";
import { configProblems, PROJECT_DIR, STACKS, stackValues } from "../support/program";

/** The pack's reconciled level and properties of `policy` on `stack`. */
function packSettings(stack: string, policy: Policy) {
    const file = loadPolicyConfigFile(path.join(PROJECT_DIR, "policy", "config", `${stack}.json`));
    return reconcilePolicyConfig([policy], "mandatory", file).get(policy.name)!;
}

function withImage(stack: string, backend: string) {
    const images = JSON.parse(stackValues(stack).values.images);
    return stackValues(stack, { images: { ...images, backend } });
}

describe.each(STACKS)("stack %s", (stack) => {
    const config = parseConfig(stackValues(stack));

    test.each([workloadMinReplicas, hpaBounds].map((p) => [p.name, p] as const))("the replica floor of %s is the program's", (_name, policy) => {
        const { enforcementLevel, properties } = packSettings(stack, policy);
        // The floor the program enforces: the fewest replicas it accepts for this environment.
        const accepted = (min: number) => {
            try {
                parseConfig(stackValues(stack, { scaling: { backend: { minReplicas: min, maxReplicas: 20 } } }));
                return true;
            } catch {
                return false;
            }
        };
        const programFloor = [1, 2, 3, 4, 5].find(accepted);
        if (enforcementLevel === "mandatory") {
            expect(properties.minReplicas).toBe(programFloor);
        } else {
            // Advisory (local, dev): the pack may only warn about more than the program refuses.
            expect(properties.minReplicas).toBeGreaterThanOrEqual(programFloor!);
        }
        expect(config.backend.minReplicas).toBeGreaterThanOrEqual(programFloor!);
    });

    test("every tag the pack treats as floating, the program's config refuses", () => {
        const { properties } = packSettings(stack, workloadImmutableImage);
        for (const tag of properties.mutableTags as string[]) {
            for (const spelled of [tag, tag.toUpperCase()]) {
                expect(configProblems(withImage(stack, `registry.example.com/kubepolaris-backend:${spelled}`)))
                    .toEqual([expect.stringMatching(/^kubepolaris:images\.backend: got .*; allowed: an image pinned by digest/)]);
            }
        }
    });


});
