// The local images' Debian userlands (scripts/cluster/images.sh) build on the hosts CI runs on: a
// Debian bookworm host uses its own apt sources (so a configured mirror keeps working); any other
// host, such as GitHub's ubuntu-24.04 runner whose sources are Ubuntu's, uses Debian's mirror and
// checks it with Debian's archive keyring, which the real-node installer provides.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const REPO = path.resolve(__dirname, "..", "..");
const IMAGES = path.join(REPO, "scripts", "cluster", "images.sh");
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "os-release-"));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

/** images.sh's functions, then `script`; the os-release file is $1. */
function withImages(script: string, osRelease: string) {
    const file = path.join(TMP, "os-release");
    fs.writeFileSync(file, osRelease);
    return spawnSync("bash", ["-c", `source "${IMAGES}" --dir >/dev/null; ${script}`, "_", file], { encoding: "utf8" });
}

function sources(osRelease: string) {
    const run = withImages('debian_sources "$1"; printf "%s\\n" "${MIRRORS[@]}"; echo "keyring=$KEYRING"', osRelease);
    expect(run.stderr).toBe("");
    const lines = run.stdout.trim().split("\n");
    return { mirrors: lines.slice(0, -1), keyring: lines[lines.length - 1].slice("keyring=".length) };
}

const DEBIAN_MIRROR = {
    mirrors: [
        "deb http://deb.debian.org/debian bookworm main",
        "deb http://deb.debian.org/debian bookworm-updates main",
        "deb http://deb.debian.org/debian-security bookworm-security main",
    ],
    keyring: "/usr/share/keyrings/debian-archive-keyring.gpg",
};

test("an Ubuntu host (the GitHub runner) builds from Debian's mirror, checked with Debian's keyring", () => {
    expect(sources("ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n")).toEqual(DEBIAN_MIRROR);
});

test("a Debian host of another release does too: its sources are not bookworm's", () => {
    expect(sources("ID=debian\nVERSION_CODENAME=trixie\n")).toEqual(DEBIAN_MIRROR);
});

test("a Debian bookworm host builds from its own apt sources, as its apt is configured", () => {
    const own = fs.existsSync("/etc/apt/sources.list.d/debian.sources") ? "/etc/apt/sources.list.d/debian.sources" : "/etc/apt/sources.list";
    expect(sources('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n')).toEqual({ mirrors: [own], keyring: "" });
});

test("without the keyring the build stops, naming the package, which the real-node installer installs", () => {
    const run = withImages('debian_sources "$1"; KEYRING=/nonexistent/debian-archive-keyring.gpg; debian_rootfs /nonexistent/rootfs busybox', "ID=ubuntu\n");
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^images\.sh: \/nonexistent\/debian-archive-keyring\.gpg is missing.*install the package debian-archive-keyring/);
    const pins = spawnSync("bash", ["-c", `source "${path.join(REPO, "scripts", "toolchain.versions")}"; echo "$CLUSTER_DEBIAN_PACKAGES"`], { encoding: "utf8" }).stdout;
    expect(pins.trim().split(/\s+/)).toEqual(expect.arrayContaining(["mmdebstrap", "debian-archive-keyring"]));
});
