// What the tests on real nodes share: whether real nodes can run here, the local images, the
// host-wide traces a real cluster leaves (checked after `down`), and requests made from inside pods.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describeFailure, REPO } from "../engine/engine";
import { Cluster, clusterBinDir, kubectl, processesUsing } from "./cluster";

/** Root, the control plane's binaries and the node add-ons (scripts/cluster/ensure.sh, ensure.sh --node, metrics-server.sh). */
export function realNodesReady(): boolean {
    const installed = (script: string, ...args: string[]) =>
        spawnSync("bash", [path.join(REPO, "scripts", "cluster", script), ...args, "--check"], { encoding: "utf8" }).status === 0;
    return Boolean(clusterBinDir() && installed("ensure.sh", "--node") && installed("metrics-server.sh") && process.getuid?.() === 0);
}

export function sh(cmd: string, args: string[]): string {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return r.status === 0 ? r.stdout : "";
}

export function image(name: string): string {
    const r = spawnSync("bash", [path.join(REPO, "scripts", "cluster", "images.sh"), name], { encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(describeFailure(`images.sh ${name}`, r));
    }
    return r.stdout.trim().split("\n").pop()!;
}

/** What the cluster may touch on the host, each as a sorted list of lines that name it. */
export function hostTraces(stateDir: string): Record<string, string[]> {
    const mine = /KUBE-|KUBEPOLARIS|CNI-|kp-br|kp-node|10\.244\.|10\.96\.|10\.99\./;
    const cgroups: string[] = [];
    for (const ctl of fs.readdirSync("/sys/fs/cgroup")) {
        try {
            for (const d of fs.readdirSync(`/sys/fs/cgroup/${ctl}`)) {
                if (d.startsWith("kubepolaris-node")) {
                    cgroups.push(`${ctl}/${d}`);
                }
            }
        } catch {
            // not a folder
        }
    }
    const sysctls = ["net/ipv4/ip_forward", "net/ipv4/conf/all/route_localnet", "vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops", "vm/panic_on_oom"]
        .map((k) => `${k}=${fs.readFileSync(`/proc/sys/${k}`, "utf8").trim()}`);
    const lines = (s: string) => s.split("\n").filter((l) => l && mine.test(l)).sort();
    return {
        processes: processesUsing(stateDir).map(String),
        mounts: fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(stateDir) || l.includes("/run/netns/cni-")),
        links: lines(sh("ip", ["-o", "link", "show"])).map((l) => l.split(":")[1].trim()),
        routes: lines(sh("ip", ["route", "show", "table", "all"])),
        iptables: ["filter", "nat", "mangle", "raw"].flatMap((t) => lines(sh("iptables-save", ["-t", t])).map((l) => `${t} ${l.replace(/\[\d+:\d+\]/, "")}`)),
        nftables: lines(sh("nft", ["list", "tables"])),
        ipsets: sh("ipset", ["list", "-n"]).split("\n").filter(Boolean).sort(),
        netns: sh("ip", ["netns", "list"]).split("\n").filter((l) => l.startsWith("cni-")),
        cgroups,
        sysctls,
    };
}

/**
 * An HTTP GET from inside a pod with busybox nc (Debian's static busybox wget crashes): the body,
 * or undefined when the request failed. One try, 3 s connect timeout.
 */
export function httpFromPod(c: Cluster, ns: string, pod: string, host: string, port: number, path = "/"): string | undefined {
    const r = kubectl(c, ["exec", "-n", ns, pod, "--", "sh", "-c",
        `printf 'GET ${path} HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' | nc -w 3 ${host} ${port}`]);
    const reply = r.status === 0 ? r.stdout : "";
    const [head, ...body] = reply.split("\r\n\r\n");
    return /^HTTP\/1\.[01] 200 /.test(head) ? body.join("\r\n\r\n").trim() : undefined;
}

/**
 * Whether a server answered a connection from inside a pod (busybox nc, 3 s): an HTTP request line is
 * sent, and any byte back counts (an HTTP answer, a TLS server's complaint, a database's greeting).
 * busybox's nc has no -z: an exit status alone would not tell a refused connection from a timeout.
 */
export function tcpFromPod(c: Cluster, ns: string, pod: string, host: string, port: number): boolean {
    const r = kubectl(c, ["exec", "-n", ns, pod, "--", "sh", "-c", `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} ${port}`]);
    return r.stdout.length > 0;
}

/** A pod that sleeps in the test image, as Pod Security "restricted" admits it, to run commands from. */
export function clientPod(name: string, ns: string, busybox: string, nodeName?: string): Record<string, unknown> {
    return {
        apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns },
        spec: {
            nodeName,
            containers: [{
                name, image: busybox, imagePullPolicy: "Never", command: ["sleep", "3600"],
                securityContext: RESTRICTED_CONTAINER,
                resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
            }],
            terminationGracePeriodSeconds: 1,
        },
    };
}

/** A container as Pod Security "restricted" admits it, as the test image's user. */
export const RESTRICTED_CONTAINER = {
    allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 65534,
    capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
};
