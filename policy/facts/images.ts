// Image references: which tags name a moving target, and how a reference splits into its parts.
// The program refuses such an image in its stack config; the pack refuses it in any program.

/**
 * Tags that name a moving target (compared case-insensitively): replicas started after a node
 * replacement run different code, and a rollback goes nowhere.
 */
export const MUTABLE_TAGS: readonly string[] = [
    "latest", "stable", "main", "master", "edge", "nightly", "dev", "develop", "head", "canary", "current",
];

export interface ImageReference {
    /** Registry, port and path: everything before the tag and the digest. */
    repository: string;
    /** "" when the reference has no tag (which means :latest). */
    tag: string;
    /** "algorithm:hex" when the reference is pinned by digest. */
    digest?: string;
}

const DIGEST_SUFFIX = /@([a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,})$/;

/** Splits "registry:5000/path/name:tag@sha256:…" into repository, tag and digest. */
export function parseImageReference(image: string): ImageReference {
    const digest = DIGEST_SUFFIX.exec(image);
    const named = digest ? image.slice(0, digest.index) : image;
    // A colon before the last "/" belongs to the registry's port, not to a tag.
    const colon = named.indexOf(":", named.lastIndexOf("/") + 1);
    return {
        repository: colon >= 0 ? named.slice(0, colon) : named,
        tag: colon >= 0 ? named.slice(colon + 1) : "",
        digest: digest?.[1],
    };
}

/** Is `tag` one of `mutableTags` (by default MUTABLE_TAGS), ignoring case? */
export function isMutableTag(tag: string, mutableTags: readonly string[] = MUTABLE_TAGS): boolean {
    return mutableTags.some((t) => t.toLowerCase() === tag.toLowerCase());
}

/** A sha256 digest as a registry reports it: "sha256:" and 64 lowercase hex digits. */
export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** An AWS account id: 12 digits. */
export const AWS_ACCOUNT_ID = /^[0-9]{12}$/;

/** An account's private ECR registry in one region: "<account>.dkr.ecr.<region>.amazonaws.com". */
export function ecrRegistryHost(account: string, region: string): string {
    return `${account}.dkr.ecr.${region}.amazonaws.com`;
}

const ECR_HOST = /^([0-9]{12})\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-[0-9])\.amazonaws\.com$/;

/** An image in a private ECR registry: its account, region and repository name ("a/b"); undefined for any other registry. */
export function parseEcrImage(image: string): { account: string; region: string; repository: string } | undefined {
    const { repository } = parseImageReference(image);
    const slash = repository.indexOf("/");
    const match = slash > 0 ? ECR_HOST.exec(repository.slice(0, slash)) : null;
    return match ? { account: match[1], region: match[2], repository: repository.slice(slash + 1) } : undefined;
}
