// scripts/lib/go-tool.sh's release_binary, the official-download-first step of the Go-tool installers
// (crane, vegeta, Traefik): given the release's checksums file it installs the binary only when the
// tarball's sha256 is the one listed for it; a missing or wrong entry leaves the build fallback to run.
// Served from file:// URLs: no network.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const GO_TOOL = path.resolve(__dirname, "..", "..", "scripts", "lib", "go-tool.sh");
const TARBALL = "tool_v1.2.3_linux_amd64.tar.gz";
let dir: string;

beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "release-binary-"));
    fs.mkdirSync(path.join(dir, "content"));
    fs.writeFileSync(path.join(dir, "content", "tool"), "#!/bin/sh\necho tool 1.2.3\n");
    spawnSync("tar", ["-czf", path.join(dir, TARBALL), "-C", path.join(dir, "content"), "tool"]);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha256 = () => spawnSync("sha256sum", [path.join(dir, TARBALL)], { encoding: "utf8" }).stdout.split(" ")[0];

/** release_binary's exit status and whether it installed the binary. */
function install(checksums?: string) {
    const dest = path.join(dir, "bin", "tool");
    fs.rmSync(dest, { force: true });
    if (checksums !== undefined) {
        fs.writeFileSync(path.join(dir, "checksums.txt"), checksums);
    }
    const args = [`file://${dir}/${TARBALL}`, "tool", dest, ...(checksums !== undefined ? [`file://${dir}/checksums.txt`] : [])];
    const run = spawnSync("bash", ["-c", `source "${GO_TOOL}"; release_binary "$@"`, "_", ...args], { encoding: "utf8" });
    return { status: run.status, installed: fs.existsSync(dest) };
}

const linuxAmd64 = os.platform() === "linux" && os.arch() === "x64";
(linuxAmd64 ? describe : describe.skip)("release_binary", () => {
    test("the tarball's hash listed in the release's checksums file: installed", () => {
        expect(install(`${"0".repeat(64)}  tool_v1.2.3_darwin_arm64.tar.gz\n${sha256()}  ${TARBALL}\n`)).toEqual({ status: 0, installed: true });
    });

    test("another hash, no entry for the tarball, or no checksums file: refused, nothing installed", () => {
        expect(install(`${"0".repeat(64)}  ${TARBALL}\n`)).toEqual({ status: 1, installed: false });
        expect(install(`${sha256()}  tool_v1.2.3_linux_arm64.tar.gz\n`)).toEqual({ status: 1, installed: false });
        fs.rmSync(path.join(dir, "checksums.txt"), { force: true });
        const args = [`file://${dir}/${TARBALL}`, "tool", path.join(dir, "bin", "tool"), `file://${dir}/missing.txt`];
        expect(spawnSync("bash", ["-c", `source "${GO_TOOL}"; release_binary "$@"`, "_", ...args]).status).toBe(1);
    });

    test("without a checksums file (crane, vegeta): installed as before", () => {
        expect(install()).toEqual({ status: 0, installed: true });
    });
});
