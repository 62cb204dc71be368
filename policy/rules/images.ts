// Images from the stack's own registry: a pod that pulls from a third party's registry cannot
// start (scale-out, drain, zone loss) while that registry is down or far away, and whoever can
// push its tag changes the code replicas run. Across resources: the images of the stack's pod
// workloads against the private ECR repositories the same stack creates.
import type { PolicyProviderResource } from "@pulumi/policy";
import { ecrRegistryHost, parseEcrImage, parseImageReference, SHA256_DIGEST } from "../facts";
import { stackPolicy, tryRead } from "./common";
import { containersOf, kindOf, nameOf, POD_WORKLOADS, podTemplate } from "./k8s";
import { displayName } from "./model";

export const ECR_REPOSITORY = "aws:ecr/repository:Repository";

/** A provider property as the engine passes it: lists arrive JSON-encoded. */
function providerList(provider: PolicyProviderResource | undefined, key: string): string[] | undefined {
    const value = provider?.props?.[key];
    const list = typeof value === "string" ? (() => { try { return JSON.parse(value); } catch { return undefined; } })() : value;
    return Array.isArray(list) && list.every((v) => typeof v === "string") ? list : undefined;
}

export const imageFromStackRegistry = stackPolicy({
    name: "image-from-stack-registry",
    description: "Every container (init containers included) runs an image pinned by digest (repo@sha256:…) from the "
        + "stack's own registry: a private ECR repository the same stack creates (aws:ecr/repository:Repository), "
        + "addressed as <account>.dkr.ecr.<region>.amazonaws.com/<name>, where the repository's provider pins that "
        + "region and that one account (allowedAccountIds). A pod then starts without a third party's registry, "
        + "and nobody who can push a tag changes what replicas run. Fix: create the repositories in the program "
        + "(a provider with region and allowedAccountIds), copy the pinned upstream images into them, and "
        + "reference the copies by digest. Applies to stacks that create an ECR repository, and with "
        + "`requireOwnRegistry` to every stack.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            requireOwnRegistry: { type: "boolean", default: false, description: "Judge every stack, also one that creates no ECR repository (staging, prod)." },
        },
    },
    validate(resources, args, report) {
        const { requireOwnRegistry } = args.getConfig<{ requireOwnRegistry: boolean }>();
        if (!requireOwnRegistry && !resources.some((r) => r.type === ECR_REPOSITORY)) {
            return; // a stack that mirrors nothing, where nobody asked for a mirror
        }
        // The stack's own repositories: "<host>/<name>" for each whose provider pins region and account.
        const own = new Set<string>();
        for (const r of resources.filter((x) => x.type === ECR_REPOSITORY)) {
            const name = tryRead(() => r.props.name);
            const region = r.provider?.props?.region;
            const accounts = providerList(r.provider, "allowedAccountIds");
            if (!name.ok || typeof name.value !== "string") {
                report(`${displayName(r)}: its name is unknown during preview; name the repository in the program so images can be matched to it.`, r.urn);
            } else if (typeof region !== "string" || accounts?.length !== 1) {
                report(`${displayName(r)} (${name.value}): its provider pins no region and single account (region, allowedAccountIds), `
                    + "so whose registry it is cannot be told; give it an explicit provider with both.", r.urn);
            } else {
                own.add(`${ecrRegistryHost(accounts[0], region)}/${name.value}`);
            }
        }
        const allowed = own.size > 0 ? [...own].sort().join(", ") : "none: the stack creates no ECR repository";
        for (const r of resources.filter((x) => POD_WORKLOADS.includes(x.type))) {
            const name = tryRead(() => nameOf(r.props));
            const workload = `${kindOf(r.type)} ${(name.ok && name.value) || r.name}`;
            const template = tryRead(() => podTemplate(r.type, r.props));
            if (!template.ok) {
                report(`${workload}: its pod template is unknown during preview (${template.unknown}); cannot verify its images.`, r.urn);
                continue;
            }
            for (const { where, container } of containersOf(template.value?.spec ?? {})) {
                const image = tryRead(() => container.image);
                if (!image.ok || typeof image.value !== "string") {
                    report(`${workload} ${where}: the image is ${image.ok ? "unset" : "unknown during preview"}; cannot verify where it comes from.`, r.urn);
                    continue;
                }
                const { digest, repository } = parseImageReference(image.value);
                const ecr = parseEcrImage(image.value);
                if (digest === undefined || !SHA256_DIGEST.test(digest)) {
                    report(`${workload} ${where} image "${image.value}" is not pinned by a sha256 digest (repo@sha256:…): a tag can be pushed again.`, r.urn);
                } else if (ecr === undefined || !own.has(repository)) {
                    report(`${workload} ${where} image "${image.value}" is not from the stack's own registry (allowed: ${allowed}): `
                        + "every pod start would depend on that registry.", r.urn);
                }
            }
        }
    },
});

export const imagePolicies = [imageFromStackRegistry];
