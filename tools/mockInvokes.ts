// Plausible answers, under mocks, to the data-source invokes real programs make most: the AWS
// account, region, partition and zones, VPC, subnet and security-group look-ups, AMIs, IAM policy
// documents (built from the statements, as the provider does), hosted zones and certificates, and
// the Kubernetes provider's YAML decoding (yaml.ConfigFile). Anything else has no answer: the
// runner then stops with the invoke's name rather than judging a program fed made-up data.
import * as yaml from "js-yaml";

export const MOCK_ACCOUNT = "123456789012";

export interface InvokeContext {
    /** aws:region of the stack (else AWS_REGION, else us-east-1). */
    region: string;
}

type Inputs = Record<string, any>;
type Answer = (inputs: Inputs, ctx: InvokeContext) => Record<string, any>;

/** A stable, provider-shaped id from a prefix and a seed ("vpc-0a1b2c3d4e5f60718"). */
function mockId(prefix: string, seed: string): string {
    let h = 2166136261;
    for (const ch of seed) {
        h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    }
    const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
    return `${prefix}-0${hex(h)}${hex(h ^ 0x5bd1e995)}`;
}

const zones = (ctx: InvokeContext) => ["a", "b", "c"].map((z) => `${ctx.region}${z}`);
/** "euw1-az1" style zone ids for eu-west-1. */
const zoneId = (ctx: InvokeContext, n: number) => `${ctx.region.split("-").map((p, i) => (i === 2 ? p : p.slice(0, i === 0 ? 2 : 1))).join("")}-az${n + 1}`;

function firstFilterValue(inputs: Inputs, name: string): string | undefined {
    const filter = (Array.isArray(inputs.filters) ? inputs.filters : []).find((f: Inputs) => f?.name === name);
    return Array.isArray(filter?.values) ? filter.values[0] : undefined;
}

function subnet(inputs: Inputs, ctx: InvokeContext): Record<string, any> {
    const id = inputs.id ?? mockId("subnet", JSON.stringify(inputs));
    const index = parseInt(id.slice(-2), 16) % 3;
    const vpcId = inputs.vpcId ?? firstFilterValue(inputs, "vpc-id") ?? mockId("vpc", "default");
    return {
        ...inputs, id, vpcId, availabilityZone: inputs.availabilityZone ?? zones(ctx)[index], availabilityZoneId: zoneId(ctx, index),
        cidrBlock: inputs.cidrBlock ?? `10.0.${index * 16}.0/20`, arn: `arn:aws:ec2:${ctx.region}:${MOCK_ACCOUNT}:subnet/${id}`,
        ownerId: MOCK_ACCOUNT, mapPublicIpOnLaunch: false, defaultForAz: false, state: "available", tags: inputs.tags ?? {},
    };
}

/** aws.iam.getPolicyDocument: the JSON the provider builds from the statements. */
function policyDocument(inputs: Inputs): Record<string, any> {
    const list = (v: unknown) => (Array.isArray(v) && v.length === 1 ? v[0] : v);
    const principals = (ps: Inputs[] | undefined) => ps && Object.fromEntries(ps.map((p) => [p.type, list(p.identifiers)]));
    const statements = (Array.isArray(inputs.statements) ? inputs.statements : []).map((s: Inputs) => {
        const out: Inputs = { Sid: s.sid, Effect: s.effect ?? "Allow" };
        for (const [from, to] of [["actions", "Action"], ["notActions", "NotAction"], ["resources", "Resource"], ["notResources", "NotResource"]]) {
            if (Array.isArray(s[from])) {
                out[to] = list(s[from]);
            }
        }
        if (s.principals) {
            out.Principal = principals(s.principals);
        }
        if (s.notPrincipals) {
            out.NotPrincipal = principals(s.notPrincipals);
        }
        if (Array.isArray(s.conditions)) {
            out.Condition = {};
            for (const c of s.conditions) {
                out.Condition[c.test] = { ...(out.Condition[c.test] ?? {}), [c.variable]: list(c.values) };
            }
        }
        return JSON.parse(JSON.stringify(out));
    });
    const doc = { Version: inputs.version ?? "2012-10-17", Id: inputs.policyId, Statement: statements };
    const json = JSON.stringify(doc, null, 2);
    return { ...inputs, id: String(json.length), json, minifiedJson: JSON.stringify(doc) };
}

const ANSWERS: Record<string, Answer> = {
    "aws:index/getRegion:getRegion": (_i, ctx) => ({ name: ctx.region, region: ctx.region, id: ctx.region, description: ctx.region, endpoint: `ec2.${ctx.region}.amazonaws.com` }),
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/mock`, userId: "mock", id: MOCK_ACCOUNT }),
    "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" }),
    "aws:index/getAvailabilityZones:getAvailabilityZones": (i, ctx) => ({
        ...i, id: ctx.region, names: zones(ctx), zoneIds: zones(ctx).map((_z, n) => zoneId(ctx, n)),
        groupNames: [ctx.region], state: i.state ?? "available",
    }),
    "aws:ec2/getVpc:getVpc": (i, ctx) => {
        const id = i.id ?? mockId("vpc", JSON.stringify(i));
        return {
            ...i, id, cidrBlock: i.cidrBlock ?? "10.0.0.0/16", default: i.default ?? false, arn: `arn:aws:ec2:${ctx.region}:${MOCK_ACCOUNT}:vpc/${id}`,
            ownerId: MOCK_ACCOUNT, state: "available", enableDnsHostnames: true, enableDnsSupport: true, mainRouteTableId: mockId("rtb", id), tags: i.tags ?? {},
        };
    },
    "aws:ec2/getSubnets:getSubnets": (i) => ({ ...i, id: "subnets", ids: ["a", "b", "c"].map((z) => mockId("subnet", `${JSON.stringify(i)}${z}`)) }),
    "aws:ec2/getSubnet:getSubnet": subnet,
    "aws:ec2/getSecurityGroup:getSecurityGroup": (i, ctx) => {
        const id = i.id ?? mockId("sg", JSON.stringify(i));
        return { ...i, id, name: i.name ?? "default", vpcId: i.vpcId ?? mockId("vpc", "default"), arn: `arn:aws:ec2:${ctx.region}:${MOCK_ACCOUNT}:security-group/${id}`, description: "mock", tags: i.tags ?? {} };
    },
    "aws:ec2/getAmi:getAmi": (i) => ({ ...i, id: mockId("ami", JSON.stringify(i)), imageId: mockId("ami", JSON.stringify(i)), architecture: "x86_64", name: "mock-ami", ownerId: MOCK_ACCOUNT, rootDeviceName: "/dev/xvda" }),
    "aws:iam/getPolicyDocument:getPolicyDocument": policyDocument,
    "aws:route53/getZone:getZone": (i) => ({ ...i, id: "Z0MOCK", zoneId: "Z0MOCK", name: i.name ?? "example.com", nameServers: ["ns-1.awsdns-01.org"] }),
    "aws:acm/getCertificate:getCertificate": (i, ctx) => ({ ...i, id: `arn:aws:acm:${ctx.region}:${MOCK_ACCOUNT}:certificate/mock`, arn: `arn:aws:acm:${ctx.region}:${MOCK_ACCOUNT}:certificate/mock`, status: "ISSUED" }),
    "kubernetes:yaml:decode": (i) => ({ result: yaml.loadAll(String(i.text ?? "")).filter((d) => d !== null && d !== undefined) }),
};

/** Why some well-known invokes cannot be answered offline (added to the message naming them). */
const UNANSWERABLE_HINTS: Record<string, string> = {
    "kubernetes:helm:template": "helm.v3.Chart renders its chart with the helm binary and the chart repository",
    "kubernetes:kustomize:directory": "kustomize.Directory builds its manifests with kustomize",
};

export type InvokeAnswer = { ok: true; value: Record<string, any> } | { ok: false; problem: string };

export function answerInvoke(token: string, inputs: Inputs, ctx: InvokeContext): InvokeAnswer {
    const answer = ANSWERS[token];
    if (answer) {
        return { ok: true, value: answer(inputs ?? {}, ctx) };
    }
    const hint = UNANSWERABLE_HINTS[token];
    return { ok: false, problem: `invoke ${token}${hint ? ` (${hint})` : ""} has no offline answer` };
}

/** The invokes that get an answer, for documentation and tests. */
export const ANSWERED_INVOKES = Object.keys(ANSWERS);
