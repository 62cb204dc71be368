// The one place that touches pulumi.Config: the running stack's settings in, parseConfig's input
// out, and secret settings handed on as Pulumi secrets.
import * as pulumi from "@pulumi/pulumi";
import { parseConfig } from "./app";
import { type AppConfig, CONFIG_NAMESPACE, type RawConfig, type SecretKey } from "./schema";

/** Reads the running stack's config (the only place that touches pulumi.Config). */
export function loadConfig(): AppConfig {
    const all = pulumi.runtime.allConfig();
    const secret = Object.keys(all).filter(isSecretKey);
    // The AWS provider takes its region from aws:region, else from the environment: so do we.
    const envRegion = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
    return parseConfig(rawConfig(pulumi.getStack(), all, secret, envRegion));
}

/**
 * The one way from a flat config map ("<namespace>:<key>" → value, as the engine passes it and as
 * tools/stackConfig.ts reads a stack file) to parseConfig's input. A secret's plaintext never
 * enters it: only the fact that the key is set, as a secret.
 */
export function rawConfig(stack: string, flat: Record<string, string>, secretKeys: string[], fallbackRegion?: string): RawConfig {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const values: Record<string, string> = {};
    const secrets = new Set<string>();
    for (const [key, value] of Object.entries(flat)) {
        if (!key.startsWith(prefix)) {
            continue; // other namespaces (aws:region, …)
        }
        const short = key.slice(prefix.length);
        if (secretKeys.includes(key)) {
            secrets.add(short);
            values[short] = "<secret>";
        } else {
            values[short] = value;
        }
    }
    return { stack, values, secretKeys: secrets, awsRegion: flat["aws:region"] || fallbackRegion };
}

/** A secret config value as a Pulumi secret Output, or undefined when the stack does not set it. */
export function secretSetting(config: AppConfig, key: SecretKey): pulumi.Output<string> | undefined {
    return config.secretsSet.has(key) ? new pulumi.Config(CONFIG_NAMESPACE).requireSecret(key) : undefined;
}

function isSecretKey(fullKey: string): boolean {
    // The engine names secret keys in PULUMI_CONFIG_SECRET_KEYS; the SDK keeps that list in its
    // runtime store (also under mocks, via setAllConfig) and answers through isConfigSecret.
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean };
    return runtime.isConfigSecret?.(fullKey) ?? false;
}
