// The stack's own image registry: one private ECR repository per image in the stack's region
// (immutable tags, scanned on push, encrypted with KMS, old versions expired), and, where the
// stack has a DR region, the same repositories there with registry replication filling them. Pods
// pull `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:…` (config/images.ts): a
// third party's registry is on no scale-out's path, and a digest cannot be re-pushed.
// `npm run images:mirror` copies the pinned upstream images in (docs/images.md).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ImageMirrorArgs {
    /** The AWS account that owns the registry; the mirror's providers refuse credentials of any other. Required. */
    account: string;
    /** The registry's region (the stack's aws:region). Required. */
    region: string;
    /** ECR repository names, one per image ("<release>-<environment>/<component>"). Required. */
    repositories: string[];
    /** Tagged images each repository keeps; older ones expire (untagged manifests never do: an image index's platform manifests are untagged). Required. */
    keepVersions: number;
    /** A second region the repositories are replicated to (the database's DR region). Default: none. */
    replicaRegion?: string;
    /** AWS tags on every resource. Default: none. */
    tags?: Record<string, string>;
}

/** The lifecycle policy: keep the newest `keepVersions` tagged images, expire older ones. */
export function lifecyclePolicy(keepVersions: number): string {
    return JSON.stringify({
        rules: [{
            rulePriority: 1,
            description: `keep the newest ${keepVersions} tagged versions (pins older than that expire)`,
            selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: keepVersions },
            action: { type: "expire" },
        }],
    });
}

export class ImageMirror extends pulumi.ComponentResource {
    /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>` per repository, in `repositories` order. */
    public readonly repositoryUrls: pulumi.Output<string[]>;
    /** The replicas' URLs in the replica region (empty without one). */
    public readonly replicaRepositoryUrls: pulumi.Output<string[]>;

    constructor(name: string, args: ImageMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubepolaris:images:ImageMirror", name, {}, opts);
        const providerArgs = (region: string): aws.ProviderArgs => ({
            region,
            allowedAccountIds: [args.account],
            ...(args.tags ? { defaultTags: { tags: args.tags } } : {}),
        });
        const primary = new aws.Provider(name, providerArgs(args.region), { parent: this });
        const repositories = createRepositories(name, args, { parent: this, provider: primary });

        let replicas: aws.ecr.Repository[] = [];
        if (args.replicaRegion !== undefined) {
            const replicaProvider = new aws.Provider(`${name}-replica`, providerArgs(args.replicaRegion), { parent: this });
            // The replicas exist with the same settings before replication writes into them
            // (replication would otherwise create them mutable, unscanned, without a lifecycle).
            replicas = createRepositories(`${name}-replica`, args, { parent: this, provider: replicaProvider });
            // Registry-wide (one per account and region): its filter names only this stack's repositories.
            new aws.ecr.ReplicationConfiguration(name, {
                replicationConfiguration: {
                    rules: [{
                        destinations: [{ region: args.replicaRegion, registryId: args.account }],
                        repositoryFilters: args.repositories.map((repository) => ({ filter: repository, filterType: "PREFIX_MATCH" })),
                    }],
                },
            }, { parent: this, provider: primary, dependsOn: replicas });
        }

        this.repositoryUrls = pulumi.all(repositories.map((r) => r.repositoryUrl));
        this.replicaRepositoryUrls = pulumi.all(replicas.map((r) => r.repositoryUrl));
        this.registerOutputs({ repositoryUrls: this.repositoryUrls, replicaRepositoryUrls: this.replicaRepositoryUrls });
    }
}

function createRepositories(prefix: string, args: ImageMirrorArgs, opts: pulumi.CustomResourceOptions): aws.ecr.Repository[] {
    return args.repositories.map((repository) => {
        const resourceName = `${prefix}-${repository.replace(/\//g, "-")}`;
        const repo = new aws.ecr.Repository(resourceName, {
            name: repository,
            imageTagMutability: "IMMUTABLE",
            imageScanningConfiguration: { scanOnPush: true },
            // The AWS managed key for ECR (aws/ecr).
            encryptionConfigurations: [{ encryptionType: "KMS" }],
            // A repository with images in it is never deleted with the stack: pods may still run them.
            forceDelete: false,
        }, opts);
        new aws.ecr.LifecyclePolicy(resourceName, { repository: repo.name, policy: lifecyclePolicy(args.keepVersions) }, opts);
        return repo;
    });
}
