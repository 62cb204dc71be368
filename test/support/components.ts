// Runs one component alone under plain `pulumi.runtime.setMocks` and records what it registers,
// for the tests in test/components/. Call `recordRegistrations()` once per test file, before the
// first component is constructed; give each component in a file its own name.
import * as pulumi from "@pulumi/pulumi";
import { TYPES } from "./types";

export interface Registered {
    type: string;
    name: string;
    inputs: any;
}

export interface Recorder {
    /** Every resource registered so far, in registration order. */
    all: Registered[];
    /** Waits for these outputs, then until no registration has come for a few turns of the event loop. */
    settle(...outputs: (pulumi.Output<unknown> | undefined)[]): Promise<void>;
    /** The registered resources of `type` whose name starts with `prefix`. */
    ofType(type: string, prefix: string): Registered[];
    /** The one registered resource of `type` named `name` (fails the test otherwise). */
    one(type: string, name: string): Registered;
}

/** What the provider reports after create, besides the inputs: per type, extra state. */
export type ComputedState = (type: string, name: string, inputs: any) => Record<string, unknown>;

/** AWS data sources the components call. */
const CALLS: Record<string, Record<string, unknown>> = {
    "aws:index/getCallerIdentity:getCallerIdentity": { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/test", userId: "test" },
    "aws:index/getPartition:getPartition": { partition: "aws", dnsSuffix: "amazonaws.com" },
};

export function recordRegistrations(computed: ComputedState = () => ({})): Recorder {
    const all: Registered[] = [];
    pulumi.runtime.setMocks({
        newResource(args) {
            all.push({ type: args.type, name: args.name, inputs: args.inputs });
            return { id: `${args.name}-id`, state: { ...args.inputs, ...computed(args.type, args.name, args.inputs) } };
        },
        call(args) {
            const result = CALLS[args.token];
            if (!result) {
                throw new Error(`no mock for the call ${args.token}`);
            }
            return result;
        },
    }, "kubepolaris", "component-test", false);

    const ofType = (type: string, prefix: string) => all.filter((r) => r.type === type && r.name.startsWith(prefix));
    return {
        all,
        async settle(...outputs) {
            await Promise.all(outputs.filter((o): o is pulumi.Output<unknown> => o !== undefined).map(valueOf));
            let seen = -1;
            for (let quiet = 0; quiet < 3;) {
                await new Promise((resolve) => setTimeout(resolve, 20));
                quiet = all.length === seen ? quiet + 1 : 0;
                seen = all.length;
            }
        },
        ofType,
        one(type, name) {
            const matches = all.filter((r) => r.type === type && r.name === name);
            if (matches.length !== 1) {
                throw new Error(`expected one ${type} named ${name}, found ${matches.length}`);
            }
            return matches[0];
        },
    };
}

/** An Output's value, as a Promise. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => {
        resolve(value);
        return value;
    }));
}

export { TYPES };

/**
 * An input as registered: whether it was sent as a secret, and its value. The mock monitor gets a
 * secret as its value wrapped under the SDK's signature key (`pulumi.runtime.specialSigKey`).
 */
export function secretInput(input: any): { secret: boolean; value: any } {
    const wrapped = input !== null && typeof input === "object" && input[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
    return wrapped ? { secret: true, value: input.value } : { secret: false, value: input };
}

/** Inputs with every secret wrapper removed (for reading values; `secretInput` tells what was secret). */
export function unwrapSecrets(input: any): any {
    if (Array.isArray(input)) {
        return input.map(unwrapSecrets);
    }
    if (input !== null && typeof input === "object") {
        const { secret, value } = secretInput(input);
        if (secret) {
            return unwrapSecrets(value);
        }
        return Object.fromEntries(Object.entries(input).map(([key, v]) => [key, unwrapSecrets(v)]));
    }
    return input;
}
