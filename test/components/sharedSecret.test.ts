// SharedSecret alone: one value every replica reads, from config or generated once, always secret.
import * as pulumi from "@pulumi/pulumi";
import { SharedSecret } from "../../components/sharedSecret";
import { recordRegistrations, secretInput, TYPES, valueOf } from "../support/components";

const recorder = recordRegistrations((type, name) => type === TYPES.randomPassword ? { result: `generated-${name}` } : {});

test("a value from config is stored as a secret under the key, and nothing is generated", async () => {
    const secret = new SharedSecret("given", { namespace: "kp", secretName: "kp-jwt", key: "jwt-secret", labels: {}, value: pulumi.output("from-config") });
    await recorder.settle(secret.secretName);
    expect(recorder.ofType(TYPES.randomPassword, "given-")).toEqual([]);
    const stored = recorder.one(TYPES.secret, "given-secret").inputs;
    expect(stored.metadata).toMatchObject({ name: "kp-jwt", namespace: "kp" });
    expect(secretInput(stored.stringData)).toEqual({ secret: true, value: { "jwt-secret": "from-config" } });
    expect(secret.key).toBe("jwt-secret");
    expect(await valueOf(secret.secretName)).toBe("kp-jwt");
});

test("without a value one is generated once (64 letters and digits by default, or the length asked for) and stored as a secret", async () => {
    const byDefault = new SharedSecret("generated", { namespace: "kp", secretName: "kp-jwt", key: "jwt-secret", labels: {} });
    const longer = new SharedSecret("longer", { namespace: "kp", secretName: "kp-other", key: "k", labels: {}, length: 96 });
    await recorder.settle(byDefault.secretName, longer.secretName);
    expect(recorder.one(TYPES.randomPassword, "generated-value").inputs).toMatchObject({ length: 64, special: false });
    expect(recorder.one(TYPES.randomPassword, "longer-value").inputs.length).toBe(96);
    const stored = recorder.one(TYPES.secret, "generated-secret").inputs;
    expect(secretInput(stored.stringData)).toEqual({ secret: true, value: { "jwt-secret": "generated-generated-value" } });
});
