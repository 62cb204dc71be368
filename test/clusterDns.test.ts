// How the program's clients look up in-cluster names (components/clusterDns.ts): the database's
// name in full with a trailing dot under the cluster's domain, and a short resolver timeout on every
// pod that connects by name, so a cluster DNS pod on a lost machine costs a lookup seconds, not the
// node controller's grace (docs/drills.md measures it).
import { CLIENT_DNS_CONFIG, RESOLVER_ATTEMPTS, RESOLVER_TIMEOUT_SECONDS } from "../components/clusterDns";
import { parseConfig } from "../config";
import { configProblems, runStack, STACKS, stackValues } from "./support/program";
import { TYPES } from "./support/types";

const withKubernetes = (stack: string, patch: Record<string, unknown>) =>
    stackValues(stack, { kubernetes: { ...JSON.parse(stackValues(stack).values.kubernetes ?? "{}"), ...patch } });

const podSpecs = async (stack: string, overrides?: Record<string, string>) => {
    const p = await runStack(stack, overrides);
    const deployments = p.ofType(TYPES.deployment).map((d) => [d.inputs.metadata.name as string, d.inputs.spec.template.spec] as const);
    const cronJobs = p.ofType(TYPES.cronJob).map((c) => [c.inputs.metadata.name as string, c.inputs.spec.jobTemplate.spec.template.spec] as const);
    return { p, pods: new Map<string, any>([...deployments, ...cronJobs]) };
};

const dbHost = (pods: Map<string, any>) =>
    pods.get("kubepolaris-backend").containers[0].env.find((e: { name: string }) => e.name === "DB_HOST").value as string;

test("the resolver options: a 1 s timeout and three tries (a lookup that meets a silent DNS pod gives up on it within a second)", () => {
    expect(CLIENT_DNS_CONFIG).toEqual({ options: [{ name: "timeout", value: "1" }, { name: "attempts", value: "3" }] });
    // The whole lookup stays well inside the database client's 5 s connect budget.
    expect(RESOLVER_TIMEOUT_SECONDS * RESOLVER_ATTEMPTS).toBeLessThan(5);
});

test("local: the backend, the frontend and the backup pods run with the resolver options", async () => {
    const { pods } = await podSpecs("local");
    // Traefik is not among them: it finds its backends through the API server, which it reaches by IP.
    expect([...pods.keys()].sort()).toEqual(["kubepolaris-backend", "kubepolaris-frontend", "kubepolaris-mysql-backup", "traefik"]);
    for (const name of ["kubepolaris-backend", "kubepolaris-frontend", "kubepolaris-mysql-backup"]) {
        const spec = pods.get(name);
        expect({ name, dnsConfig: spec.dnsConfig }).toEqual({ name, dnsConfig: CLIENT_DNS_CONFIG });
        // The options add to the cluster's resolver; they do not replace it.
        expect({ name, dnsPolicy: spec.dnsPolicy }).toEqual({ name, dnsPolicy: undefined });
    }
});

test.each(STACKS.filter((s) => s !== "local"))("%s (RDS): the backend runs with the resolver options and keeps RDS's endpoint name as it is", async (stack) => {
    const { pods } = await podSpecs(stack);
    expect(pods.get("kubepolaris-backend").dnsConfig).toEqual(CLIENT_DNS_CONFIG);
    expect(dbHost(pods)).toMatch(/\.rds\.amazonaws\.com$/);
});

test("local: the backend and the backups connect to the database by its full name, so no lookup walks the search list", async () => {
    const { pods } = await podSpecs("local");
    expect(dbHost(pods)).toBe("kubepolaris-mysql.kubepolaris.svc.cluster.local.");
    const backup = pods.get("kubepolaris-mysql-backup").containers[0].env.find((e: { name: string }) => e.name === "DB_HOST").value;
    expect(backup).toBe(dbHost(pods));
});

test("kubernetes.clusterDomain: a cluster with its own domain gets the database's name under it", async () => {
    const domain = "corp.internal";
    expect(parseConfig(withKubernetes("local", { clusterDomain: domain })).kubernetes.clusterDomain).toBe(domain);
    expect(parseConfig(stackValues("local")).kubernetes.clusterDomain).toBe("cluster.local");
    const { pods } = await podSpecs("local", { "kubepolaris:kubernetes": JSON.stringify({ clusterDomain: domain }) });
    expect(dbHost(pods)).toBe(`kubepolaris-mysql.kubepolaris.svc.${domain}.`);
});

test.each([
    ["Cluster.Local", '"Cluster.Local"'],
    ["cluster.local.", '"cluster.local."'],
    ["", '""'],
])("kubernetes.clusterDomain %j is refused, naming the key and what is allowed", (domain, shown) => {
    expect(configProblems(withKubernetes("local", { clusterDomain: domain }))).toEqual([
        `kubepolaris:kubernetes.clusterDomain: got ${shown}; allowed: a DNS-1123 name (lowercase letters, digits, '-' and '.')`,
    ]);
});
