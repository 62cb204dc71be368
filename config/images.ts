// `images`: what each workload runs. On the cloud stacks (dev, staging, prod) that is the stack's
// own mirror: ECR repositories in aws:region the program creates (components/imageMirror.ts),
// filled by `npm run images:mirror -- --stack <stack>` with the pinned upstream images, which
// records each copy's digest here. A pod then starts from `<account>.dkr.ecr.<region>/…@sha256:…`:
// no third-party registry on the path of a scale-out, and nobody can change what a digest names.
// The local stack has no registry: its images are built on the nodes (scripts/cluster/images.sh).
// Pure (no Pulumi runtime): scripts/images/mirror.ts reads the same plan from a stack file.
import { IMAGE_PULL_POLICIES, type ImagePullPolicy } from "../components/types";
import { AWS_ACCOUNT_ID, ecrRegistryHost, parseImageReference, SHA256_DIGEST } from "../policy/facts";
import { type EnvironmentDecisions } from "./environments";
import { type Environment, type ImageMirrorConfig, MIRRORED_COMPONENTS, type MirroredComponent } from "./schema";
import { image, integer, matching, object, oneOf, orDefault, Problems } from "./validators";

/** The command that fills a stack's mirror and records the digests (package.json `images:mirror`). */
export const MIRROR_COMMAND = "npm run images:mirror -- --stack";

/** Tagged images each mirror repository keeps by default (older versions expire). */
export const DEFAULT_KEEP_VERSIONS = 20;

/** The mirror repository of one component: one prefix per release and environment, so stacks sharing an account never collide. */
export function mirrorRepositoryName(release: string, environment: Environment, component: MirroredComponent): string {
    return `${release}-${environment}/${component}`;
}

export interface ImagesContext {
    stack: string;
    release: string;
    environment: Environment | undefined;
    decisions: EnvironmentDecisions;
    awsRegion: string | undefined;
    /**
     * The mirror command's reading: digests may be missing (it is about to record them). The
     * program never sets it: a cloud stack without its digests is refused.
     */
    digestsPending?: boolean;
}

export interface ParsedImages {
    /** The reference each workload runs (the mirror's digest on a cloud stack). */
    backend: string;
    frontend: string;
    imagePullPolicy: ImagePullPolicy;
    mirror?: ImageMirrorConfig;
}

/** Parses `images` (upstream pins, pull policy and the mirror), recording every problem in `p`. */
export function parseImages(p: Problems, raw: unknown, ctx: ImagesContext): ParsedImages {
    const images = object(p, "images", raw, ["backend", "frontend", "pullPolicy", "mirror"], true);
    const sources = {
        backend: image(p, "images.backend", images.backend) ?? "",
        frontend: image(p, "images.frontend", images.frontend) ?? "",
    };
    const onEnvironment = ctx.environment ? `environment ${ctx.environment}` : "this environment";
    let mirror: ImageMirrorConfig | undefined;
    if (!ctx.decisions.imageMirror) {
        if (images.mirror !== undefined) {
            p.add("images.mirror", images.mirror, `nothing on ${onEnvironment}: it has no AWS account (its images are built on the nodes, scripts/cluster/images.sh)`);
        }
    } else if (images.mirror === undefined) {
        p.add("images.mirror", undefined, `{account: <12-digit AWS account id>} on ${onEnvironment}: its pods run images only from the stack's own ECR mirror`
            + ` (created by the program, filled by \`${MIRROR_COMMAND} ${ctx.stack}\`; docs/images.md)`);
    } else {
        mirror = parseMirror(p, images.mirror, sources, ctx);
    }
    const refs = mirror
        ? Object.fromEntries(mirror.images.map((m) => [m.component, m.digest ? `${mirror!.registry}/${m.repository}@${m.digest}` : ""])) as Record<MirroredComponent, string>
        : sources;
    // A digest names one image for good: a node that has it need not ask again. A tag may move.
    const pinnedByDigest = [refs.backend, refs.frontend].every((ref) => parseImageReference(ref).digest !== undefined);
    return {
        backend: refs.backend,
        frontend: refs.frontend,
        imagePullPolicy: orDefault(p, "images.pullPolicy", images.pullPolicy, pinnedByDigest ? "IfNotPresent" : "Always", oneOf(IMAGE_PULL_POLICIES)),
        mirror,
    };
}

function parseMirror(p: Problems, raw: unknown, sources: Record<MirroredComponent, string>, ctx: ImagesContext): ImageMirrorConfig {
    const m = object(p, "images.mirror", raw, ["account", "keepVersions", "digests"], true);
    const account = matching(AWS_ACCOUNT_ID, "the 12-digit id of the AWS account whose ECR holds the stack's mirror")(p, "images.mirror.account", m.account) ?? "";
    const keepVersions = orDefault(p, "images.mirror.keepVersions", m.keepVersions, DEFAULT_KEEP_VERSIONS, integer(2, 1000));
    const digests = object(p, "images.mirror.digests", m.digests, [...MIRRORED_COMPONENTS], false);
    if (ctx.awsRegion === undefined) {
        p.add("aws:region", undefined, "the AWS region of the stack (its ECR mirror lives there)");
    }
    const region = ctx.awsRegion ?? "";
    const registry = ecrRegistryHost(account, region);
    return {
        account,
        region,
        registry,
        keepVersions,
        images: MIRRORED_COMPONENTS.map((component) => {
            const repository = mirrorRepositoryName(ctx.release, ctx.environment ?? "staging", component);
            const key = `images.mirror.digests.${component}`;
            let digest: string | undefined;
            if (digests[component] === undefined && ctx.digestsPending) {
                digest = undefined;
            } else if (digests[component] === undefined) {
                p.add(key, undefined, `the sha256 digest of ${sources[component] || `images.${component}`} in ${registry}/${repository},`
                    + ` recorded by \`${MIRROR_COMMAND} ${ctx.stack}\` (the stack runs nothing before its mirror is filled)`);
            } else {
                digest = matching(SHA256_DIGEST, "a digest as the mirror records it: sha256: and 64 lowercase hex digits")(p, key, digests[component]);
            }
            return { component, source: sources[component], repository, digest };
        }),
    };
}
