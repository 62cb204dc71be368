// npm run images:mirror -- --stack <stack> [--registry HOST[:PORT]] [--project-dir DIR] [--check]
//
// Copies the stack's pinned upstream images (images.backend, images.frontend in Pulumi.<stack>.yaml)
// into its own mirror (the ECR repositories the program creates, config/images.ts) with crane
// (scripts/images/crane.sh), reads back each copy's digest, checks it is the upstream's, and records
// it as images.mirror.digests.<image> in the stack file (comments and layout kept; the edit is
// checked by parsing the file again). A second run copies nothing and changes nothing. An image
// already in the mirror under the same tag with another digest (the upstream tag was re-pushed) is
// refused: the mirror's tags are immutable, and the stack keeps running the digest it recorded.
//
//   --registry  push to this registry instead of <account>.dkr.ecr.<region>.amazonaws.com (same
//               repository names): a local registry for tests, or a copy elsewhere. ECR needs a
//               login first: this runs `aws ecr get-login-password | crane auth login` for it.
//   --check     copy nothing: exit 1, naming this command, when the stack file records no digest
//               for an image (`pulumi up` refuses such a stack); what deploy.yml runs first.
//
// Exit 0: mirrored and recorded (each image listed); 1: a copy or a check failed; 2: bad usage or config.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { MIRROR_COMMAND, parseImages } from "../../config/images";
import { decisionsFor } from "../../config/environments";
import { ENVIRONMENTS, type Environment, type MirroredComponent } from "../../config/schema";
import { ConfigError, Problems } from "../../config/validators";
import { rawConfig } from "../../config/load";
import { loadStackConfig, stackFilePath } from "../../tools/stackConfig";
import { parseImageReference } from "../../policy/facts";

const REPO = path.resolve(__dirname, "..", "..");

class UsageError extends Error {}

interface Options {
    stack: string;
    projectDir: string;
    registry?: string;
    check: boolean;
}

function parseArgs(argv: string[]): Options {
    let stack: string | undefined;
    let registry: string | undefined;
    let projectDir = REPO;
    let check = false;
    for (let i = 0; i < argv.length; i++) {
        const value = argv[i + 1];
        switch (argv[i]) {
            case "--stack": stack = value; i++; break;
            case "--registry": registry = value; i++; break;
            case "--project-dir": projectDir = path.resolve(value ?? ""); i++; break;
            case "--check": check = true; break;
            default: throw new UsageError(`unknown argument ${argv[i]} (usage: images:mirror -- --stack <stack> [--registry HOST[:PORT]] [--project-dir DIR] [--check])`);
        }
    }
    if (!stack) {
        throw new UsageError("--stack <stack> is required");
    }
    return { stack, projectDir, registry, check };
}

export interface PlannedCopy {
    component: MirroredComponent;
    source: string;
    /** Where the copy goes: repository and tag (or digest, for an upstream pinned by digest only). */
    destination: string;
    recorded?: string;
}

/** The copies a stack file asks for (its images section, digests not needed yet). */
export function plan(projectDir: string, stack: string, registry?: string): PlannedCopy[] {
    const { config, secretKeys } = loadStackConfig(projectDir, stack, { mirrorPins: "recorded" });
    const raw = rawConfig(stack, config, secretKeys);
    const p = new Problems();
    const environment = (ENVIRONMENTS as readonly string[]).includes(raw.values.environment) ? raw.values.environment as Environment : undefined;
    if (environment === undefined) {
        p.add("environment", raw.values.environment, `one of ${ENVIRONMENTS.join(", ")}`);
    }
    const images = parseImages(p, raw.values.images, {
        stack, release: raw.values.release ?? "kubepolaris", environment, decisions: decisionsFor(environment), awsRegion: raw.awsRegion, digestsPending: true,
    });
    p.throwIfAny();
    if (!images.mirror) {
        throw new UsageError(`stack ${stack} has no image mirror (environment ${environment}: its images are built on the nodes)`);
    }
    const host = registry ?? images.mirror.registry;
    return images.mirror.images.map((image) => {
        const { tag, digest } = parseImageReference(image.source);
        return {
            component: image.component,
            source: image.source,
            destination: tag !== "" ? `${host}/${image.repository}:${tag}` : `${host}/${image.repository}@${digest}`,
            recorded: image.digest,
        };
    });
}

/** crane <args>: stdout trimmed; throws with stderr unless `allowFailure`. */
function crane(bin: string, args: string[], allowFailure = false): { ok: boolean; out: string; err: string } {
    const r = spawnSync(bin, args, { encoding: "utf8", timeout: 15 * 60_000 });
    const result = { ok: r.status === 0, out: (r.stdout ?? "").trim(), err: (r.stderr ?? "").trim() };
    if (!result.ok && !allowFailure) {
        throw new Error(`crane ${args.join(" ")} failed: ${result.err || r.error?.message || `exit ${r.status}`}`);
    }
    return result;
}

/** The manifest is not in the registry (as opposed to any other failure). */
const NOT_FOUND = /MANIFEST_UNKNOWN|NAME_UNKNOWN|NOT_FOUND|404|RepositoryNotFound|does not exist/i;

function ecrLogin(bin: string, host: string): void {
    const region = /\.dkr\.ecr\.([^.]+)\.amazonaws\.com$/.exec(host)?.[1];
    if (!region) {
        return;
    }
    const password = spawnSync("aws", ["ecr", "get-login-password", "--region", region], { encoding: "utf8" });
    if (password.status !== 0) {
        throw new Error(`aws ecr get-login-password --region ${region} failed (the AWS CLI with credentials of the stack's account is needed): ${(password.stderr ?? password.error?.message ?? "").trim()}`);
    }
    const login = spawnSync(bin, ["auth", "login", host, "--username", "AWS", "--password-stdin"], { input: password.stdout, encoding: "utf8" });
    if (login.status !== 0) {
        throw new Error(`crane auth login ${host} failed: ${(login.stderr ?? "").trim()}`);
    }
}

export interface CopyResult extends PlannedCopy {
    digest: string;
    copied: boolean;
}

/** Copies each planned image unless the mirror already holds it; returns each copy's digest (checked against the source's). */
export function mirror(bin: string, copies: PlannedCopy[]): CopyResult[] {
    return copies.map((copy) => {
        const upstream = crane(bin, ["digest", copy.source]).out;
        const existing = crane(bin, ["digest", copy.destination], true);
        if (!existing.ok && !NOT_FOUND.test(existing.err)) {
            throw new Error(`reading ${copy.destination} failed: ${existing.err}`);
        }
        if (existing.ok && existing.out !== upstream) {
            throw new Error(`${copy.destination} already holds ${existing.out}, but ${copy.source} is now ${upstream}: the upstream tag was pushed again.`
                + " The mirror's tags are immutable and the stack keeps its recorded digest; pin the new upstream version under a new tag (or by digest) in images."
                + copy.component);
        }
        if (!existing.ok) {
            crane(bin, ["copy", copy.source, copy.destination]);
        }
        const digest = crane(bin, ["digest", copy.destination]).out;
        if (digest !== upstream) {
            throw new Error(`${copy.destination} is ${digest} after the copy, not ${upstream} (${copy.source})`);
        }
        return { ...copy, digest, copied: !existing.ok };
    });
}

/**
 * The stack file's text with images.mirror.digests.<component> set, everything else (comments,
 * order, quoting) as it was. Throws when the file's layout is not the block style this edits; the
 * result is parsed again and must differ from the original in exactly those values.
 */
export function withDigests(text: string, digests: Partial<Record<MirroredComponent, string>>): string {
    const lines = text.split("\n");
    const indentOf = (line: string) => line.length - line.trimStart().length;
    const isContent = (line: string) => line.trim() !== "" && !line.trimStart().startsWith("#");
    /** [start, end): the lines of the block opened by the line at `start` (its children, more indented). */
    const blockEnd = (start: number) => {
        const indent = indentOf(lines[start]);
        let end = start + 1;
        for (let i = start + 1; i < lines.length; i++) {
            if (isContent(lines[i])) {
                if (indentOf(lines[i]) <= indent) {
                    break;
                }
                end = i + 1;
            }
        }
        return end;
    };
    const find = (key: string, from: number, to: number, indent: number) => {
        for (let i = from; i < to; i++) {
            if (isContent(lines[i]) && indentOf(lines[i]) === indent && new RegExp(`^\\s*["']?${key.replace(/[.:]/g, "\\$&")}["']?:(\\s|$)`).test(lines[i])) {
                return i;
            }
        }
        return -1;
    };
    const layout = "the stack file's images section is not in the block layout this command edits: set images.mirror.digests by hand (`pulumi config set --path`)";
    const images = find("kubepolaris:images", 0, lines.length, 2);
    const mirrorAt = images < 0 ? -1 : find("mirror", images + 1, blockEnd(images), 4);
    if (mirrorAt < 0) {
        throw new Error(layout);
    }
    let digestsAt = find("digests", mirrorAt + 1, blockEnd(mirrorAt), 6);
    if (digestsAt < 0) {
        digestsAt = blockEnd(mirrorAt);
        lines.splice(digestsAt, 0, "      digests:");
    }
    for (const [component, digest] of Object.entries(digests)) {
        const at = find(component, digestsAt + 1, blockEnd(digestsAt), 8);
        const entry = `        ${component}: "${digest}"`;
        if (at >= 0) {
            lines[at] = entry;
        } else {
            lines.splice(blockEnd(digestsAt), 0, entry);
        }
    }
    const result = lines.join("\n");
    // The edit must change exactly the digests.
    const before = yaml.load(text) as any;
    const expected = structuredClone(before);
    const mirrorNode = expected.config["kubepolaris:images"].mirror;
    mirrorNode.digests = { ...(mirrorNode.digests ?? {}), ...digests };
    if (JSON.stringify(yaml.load(result)) !== JSON.stringify(expected)) {
        throw new Error(layout);
    }
    return result;
}

/** --check: every image's digest is recorded, as `pulumi up` needs; else exit 1 naming the command that records them. */
function checkRecorded(options: Options, copies: PlannedCopy[]): number {
    const file = path.basename(stackFilePath(options.projectDir, options.stack));
    const missing = copies.filter((c) => c.recorded === undefined).map((c) => c.component);
    if (missing.length > 0) {
        console.error(`images:mirror: ${file} records no mirrored digest for ${missing.join(", ")}, so \`pulumi up\` refuses the stack: `
            + `create its ECR mirror, run \`${MIRROR_COMMAND} ${options.stack}\` and commit the digests it records `
            + `(docs/images.md, "Order for a new stack")`);
        return 1;
    }
    console.log(`${file}: ${copies.map((c) => `${c.component}@${c.recorded}`).join(", ")} (pinned by digest)`);
    return 0;
}

export function main(argv: string[]): number {
    let options: Options;
    let copies: PlannedCopy[];
    try {
        options = parseArgs(argv);
        copies = plan(options.projectDir, options.stack, options.registry);
    } catch (e) {
        if (e instanceof UsageError || e instanceof ConfigError) {
            console.error(`images:mirror: ${e.message}`);
            return 2;
        }
        throw e;
    }
    if (options.check) {
        return checkRecorded(options, copies);
    }
    try {
        const installed = spawnSync("bash", [path.join(REPO, "scripts", "images", "crane.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
        if (installed.status !== 0) {
            console.error("images:mirror: crane could not be installed (scripts/images/crane.sh)");
            return 2;
        }
        const bin = installed.stdout.trim().split("\n").pop()!;
        if (!options.registry) {
            ecrLogin(bin, copies[0].destination.split("/")[0]);
        }
        const results = mirror(bin, copies);
        const file = stackFilePath(options.projectDir, options.stack);
        const changed = results.filter((r) => r.recorded !== r.digest);
        if (changed.length > 0) {
            fs.writeFileSync(file, withDigests(fs.readFileSync(file, "utf8"), Object.fromEntries(changed.map((r) => [r.component, r.digest]))));
        }
        for (const r of results) {
            console.log(`${r.component}: ${r.source} -> ${r.destination} ${r.digest} (${r.copied ? "copied" : "already mirrored"}; ${r.recorded === r.digest ? "recorded already" : `recorded in ${path.basename(file)}`})`);
        }
        return 0;
    } catch (e) {
        console.error(`images:mirror: ${(e as Error).message}`);
        return 1;
    }
}

if (require.main === module) {
    process.exitCode = main(process.argv.slice(2));
}
