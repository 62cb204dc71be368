// `npm run images:mirror` for real, without the internet: two registries crane serves on
// 127.0.0.1 (go-containerregistry's in-memory registry) stand in for the upstream and for the
// stack's ECR. The upstream images are built here with crane (no root, no Docker): the backend a
// single image, the frontend a two-platform image index, as multi-arch releases are. The command
// copies them, records in the stack file the digests the upstream pushes produced (nothing else in
// the file changes), and a second run copies and changes nothing; an upstream tag pushed again
// with other content is refused.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { parseConfig, rawConfig } from "../../config";
import { loadStackConfig } from "../../tools/stackConfig";
import { withDigests } from "../../scripts/images/mirror";

const REPO = path.resolve(__dirname, "..", "..");
const UPSTREAM = "registry.cn-hangzhou.aliyuncs.com/clay-wangzhi";

let crane: string;
let scratch: string;
const servers: ChildProcess[] = [];
let source: string;
let mirror: string;
/** The digests the upstream pushes produced, per component. */
const pushed: Record<string, string> = {};

function run(cmd: string, args: string[], options: { input?: string } = {}) {
    const r = spawnSync(cmd, args, { encoding: "utf8", input: options.input, timeout: 10 * 60_000 });
    return { code: r.status, out: (r.stdout ?? "").trim(), err: (r.stderr ?? "").trim() };
}

function must(cmd: string, args: string[]): string {
    const r = run(cmd, args);
    if (r.code !== 0) {
        throw new Error(`${cmd} ${args.join(" ")}: exit ${r.code}: ${r.err}`);
    }
    return r.out;
}

async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

/** `crane registry serve` on 127.0.0.1, ready when it answers /v2/. */
async function serveRegistry(): Promise<string> {
    const port = await freePort();
    const child = spawn(crane, ["registry", "serve", "--address", `127.0.0.1:${port}`], { stdio: "ignore" });
    servers.push(child);
    for (let i = 0; i < 100; i++) {
        const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false);
        if (ok) {
            return `127.0.0.1:${port}`;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`crane registry serve on 127.0.0.1:${port} did not answer`);
}

/** The mirror command as an operator runs it (npm run images:mirror), on the scratch project. */
function mirrorCommand() {
    return run("npm", ["run", "--silent", "images:mirror", "--", "--stack", "prod", "--project-dir", scratch, "--registry", mirror]);
}

const stackFile = () => path.join(scratch, "Pulumi.prod.yaml");

beforeAll(async () => {
    crane = must("bash", [path.join(REPO, "scripts", "images", "crane.sh")]).split("\n").pop()!;
    source = await serveRegistry();
    mirror = await serveRegistry();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "kubepolaris-mirror-test-"));
    // The upstream: one layer (a file naming the release) on the empty image, per platform.
    const layerDir = path.join(scratch, "layer");
    fs.mkdirSync(path.join(layerDir, "app"), { recursive: true });
    fs.writeFileSync(path.join(layerDir, "app", "VERSION"), "1.0.5\n");
    const layer = path.join(scratch, "layer.tar");
    must("tar", ["-cf", layer, "-C", layerDir, "app"]);
    const upstream = `${source}/clay-wangzhi`;
    const platformImage = (name: string, platform: string) => {
        must(crane, ["append", "-f", layer, "-t", `${upstream}/${name}`]);
        return must(crane, ["mutate", "--set-platform", platform, `${upstream}/${name}`, "-t", `${upstream}/${name}`]);
    };
    pushed.backend = platformImage("kubepolaris-backend:v1.0.5", "linux/amd64").split("@").pop()!;
    const amd64 = platformImage("kubepolaris-frontend-build:amd64", "linux/amd64");
    const arm64 = platformImage("kubepolaris-frontend-build:arm64", "linux/arm64");
    pushed.frontend = must(crane, ["index", "append", "-m", amd64, "-m", arm64, "-t", `${upstream}/kubepolaris-frontend:v1.0.5`]).split("@").pop()!;
    expect(pushed.backend).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(pushed.frontend).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(JSON.parse(must(crane, ["manifest", `${upstream}/kubepolaris-frontend@${pushed.frontend}`])).manifests).toHaveLength(2);
    // A project holding the real prod stack file, its upstream registry pointed at the local one.
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
    const prod = fs.readFileSync(path.join(REPO, "Pulumi.prod.yaml"), "utf8");
    expect(prod.split(UPSTREAM).length).toBe(3);
    fs.writeFileSync(stackFile(), prod.split(UPSTREAM).join(`${source}/clay-wangzhi`));
}, 15 * 60_000);

afterAll(() => {
    servers.forEach((s) => s.kill());
    if (scratch) {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
});

test("the first run copies both images, records the digests the upstream pushes produced, and changes nothing else in the stack file", () => {
    const before = fs.readFileSync(stackFile(), "utf8");
    const r = mirrorCommand();
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out.split("\n")).toEqual(["backend", "frontend"].map((c) => `${c}: ${source}/clay-wangzhi/kubepolaris-${c}:v1.0.5`
        + ` -> ${mirror}/kubepolaris-prod/${c}:v1.0.5 ${pushed[c]} (copied; recorded in Pulumi.prod.yaml)`));
    // The mirror serves the same manifests under its own names: the index whole, with both platforms.
    for (const c of ["backend", "frontend"]) {
        expect(must(crane, ["digest", `${mirror}/kubepolaris-prod/${c}:v1.0.5`])).toBe(pushed[c]);
        expect(must(crane, ["manifest", `${mirror}/kubepolaris-prod/${c}@${pushed[c]}`])).toBe(must(crane, ["manifest", `${source}/clay-wangzhi/kubepolaris-${c}@${pushed[c]}`]));
    }
    for (const m of JSON.parse(must(crane, ["manifest", `${mirror}/kubepolaris-prod/frontend@${pushed.frontend}`])).manifests) {
        expect(must(crane, ["digest", `${mirror}/kubepolaris-prod/frontend@${m.digest}`])).toBe(m.digest);
    }
    // Only the digests were added: every line of the file before is still there, in order, comments included.
    const after = fs.readFileSync(stackFile(), "utf8");
    const added = after.split("\n").filter((line) => !before.split("\n").includes(line));
    expect(added).toEqual(["      digests:", `        backend: "${pushed.backend}"`, `        frontend: "${pushed.frontend}"`]);
    expect(after.split("\n").filter((line) => !added.includes(line)).join("\n")).toBe(before);
    // The program now runs the recorded digests from the stack's ECR (the real engine reads the same file).
    const { config, secretKeys } = loadStackConfig(scratch, "prod", { mirrorPins: "recorded" });
    const app = parseConfig(rawConfig("prod", config, secretKeys));
    expect(app.backend.image).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/kubepolaris-prod/backend@${pushed.backend}`);
    expect(app.frontend.image).toBe(`123456789012.dkr.ecr.eu-west-1.amazonaws.com/kubepolaris-prod/frontend@${pushed.frontend}`);
}, 5 * 60_000);

test("a second run copies nothing and leaves the stack file byte for byte", () => {
    const before = fs.readFileSync(stackFile(), "utf8");
    const r = mirrorCommand();
    expect(r.code).toBe(0);
    expect(r.out.split("\n")).toEqual(["backend", "frontend"].map((c) => `${c}: ${source}/clay-wangzhi/kubepolaris-${c}:v1.0.5`
        + ` -> ${mirror}/kubepolaris-prod/${c}:v1.0.5 ${pushed[c]} (already mirrored; recorded already)`));
    expect(fs.readFileSync(stackFile(), "utf8")).toBe(before);
}, 5 * 60_000);

test("an upstream tag pushed again with other content is refused; the mirror and the recorded digest stay", () => {
    const before = fs.readFileSync(stackFile(), "utf8");
    const moved = must(crane, ["mutate", `${source}/clay-wangzhi/kubepolaris-backend:v1.0.5`, "--label", "org.kubepolaris.test=moved",
        "-t", `${source}/clay-wangzhi/kubepolaris-backend:v1.0.5`]).split("@").pop();
    const r = mirrorCommand();
    expect(r.code).toBe(1);
    expect(r.err).toContain(`images:mirror: ${mirror}/kubepolaris-prod/backend:v1.0.5 already holds ${pushed.backend}, but ${source}/clay-wangzhi/kubepolaris-backend:v1.0.5 is now ${moved}: the upstream tag was pushed again.`);
    expect(must(crane, ["digest", `${mirror}/kubepolaris-prod/backend:v1.0.5`])).toBe(pushed.backend);
    expect(fs.readFileSync(stackFile(), "utf8")).toBe(before);
}, 5 * 60_000);

test("a stack without a mirror, and a stack file not in block layout, are refused with what to do", () => {
    const local = run("npm", ["run", "--silent", "images:mirror", "--", "--stack", "local", "--registry", mirror]);
    expect(local.code).toBe(2);
    expect(local.err).toBe("images:mirror: stack local has no image mirror (environment local: its images are built on the nodes)");
    const flow = 'config:\n  kubepolaris:images: { backend: "a:v1", frontend: "b:v1", mirror: { account: "123456789012" } }\n';
    expect(() => withDigests(flow, { backend: `sha256:${"a".repeat(64)}` })).toThrow(/not in the block layout this command edits: set images.mirror.digests by hand/);
    // An existing digest is replaced in place.
    const block = 'config:\n  kubepolaris:images:\n    mirror:\n      account: "123456789012"\n      digests:\n        backend: "sha256:old" # kept?\n';
    const edited = withDigests(block, { backend: `sha256:${"a".repeat(64)}` });
    expect((yaml.load(edited) as any).config["kubepolaris:images"].mirror.digests).toEqual({ backend: `sha256:${"a".repeat(64)}` });
});
