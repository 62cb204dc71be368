// image-from-stack-registry on the fixture stack's data: its two tiers run digests from the ECR
// repositories the stack creates (behind a provider pinning region and account); each case changes
// one thing. Here it runs as staging and prod configure it (requireOwnRegistry).
import { imageFromStackRegistry } from "../../policy/rules/images";
import { defaultSpec, REGISTRY_HOST, Spec } from "../fixtures/_lib/spec";
import { FakeResource, specResources, violationsOf } from "./support";

const MANDATORY = { enforcementLevel: "mandatory" as const, properties: { requireOwnRegistry: true } };
const DIGEST = `sha256:${"c".repeat(64)}`;
const OWN = `allowed: ${REGISTRY_HOST}/shop/api, ${REGISTRY_HOST}/shop/web`;
const api = (s: Spec) => s.tiers.api.deployment.spec.template.spec;

async function check(mutate: (spec: Spec) => void = () => undefined, edit: (resources: FakeResource[]) => FakeResource[] = (r) => r) {
    const spec = defaultSpec();
    mutate(spec);
    return violationsOf(imageFromStackRegistry, edit(specResources(spec)), MANDATORY);
}

test("the baseline passes: both tiers run digests from the stack's own repositories", async () => {
    expect(await check()).toEqual([]);
});

test.each<[string, (spec: Spec) => void, string[]]>([
    ["a digest from the upstream registry", (s) => { api(s).containers[0].image = `ghcr.io/example/shop-api@${DIGEST}`; }, [
        `api-deployment: Deployment shop-api containers[0] (api) image "ghcr.io/example/shop-api@${DIGEST}" is not from the stack's own registry (${OWN}): every pod start would depend on that registry.`,
    ]],
    ["the stack's own repository by tag", (s) => { api(s).containers[0].image = `${REGISTRY_HOST}/shop/api:v1.4.2`; }, [
        `api-deployment: Deployment shop-api containers[0] (api) image "${REGISTRY_HOST}/shop/api:v1.4.2" is not pinned by a sha256 digest (repo@sha256:…): a tag can be pushed again.`,
    ]],
    ["the same repository name in another account's registry", (s) => { api(s).containers[0].image = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api@${DIGEST}`; }, [
        `api-deployment: Deployment shop-api containers[0] (api) image "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api@${DIGEST}" is not from the stack's own registry (${OWN}): every pod start would depend on that registry.`,
    ]],
    ["the same repository in another region", (s) => { api(s).containers[0].image = `210987654321.dkr.ecr.us-east-1.amazonaws.com/shop/api@${DIGEST}`; }, [
        `api-deployment: Deployment shop-api containers[0] (api) image "210987654321.dkr.ecr.us-east-1.amazonaws.com/shop/api@${DIGEST}" is not from the stack's own registry (${OWN}): every pod start would depend on that registry.`,
    ]],
    ["a repository of the registry the stack does not create", (s) => { api(s).containers[0].image = `${REGISTRY_HOST}/shop/other@${DIGEST}`; }, [
        `api-deployment: Deployment shop-api containers[0] (api) image "${REGISTRY_HOST}/shop/other@${DIGEST}" is not from the stack's own registry (${OWN}): every pod start would depend on that registry.`,
    ]],
    ["an init container from elsewhere", (s) => { api(s).initContainers = [{ name: "migrate", image: `docker.io/library/busybox@${DIGEST}` }]; }, [
        `api-deployment: Deployment shop-api initContainers[0] (migrate) image "docker.io/library/busybox@${DIGEST}" is not from the stack's own registry (${OWN}): every pod start would depend on that registry.`,
    ]],
    ["no repository at all", (s) => { s.registry.repositories = []; }, [
        `api-deployment: Deployment shop-api containers[0] (api) image "${REGISTRY_HOST}/shop/api@sha256:${"b".repeat(64)}" is not from the stack's own registry (allowed: none: the stack creates no ECR repository): every pod start would depend on that registry.`,
        `web-deployment: Deployment shop-web containers[0] (web) image "${REGISTRY_HOST}/shop/web@sha256:${"a".repeat(64)}" is not from the stack's own registry (allowed: none: the stack creates no ECR repository): every pod start would depend on that registry.`,
    ]],
])("refused: %s", async (_title, mutate, expected) => {
    expect(await check(mutate)).toEqual(expected);
});

test("a repository whose provider pins no account is nobody's in particular: it and the images from it are refused", async () => {
    const got = await check(undefined, (resources) => resources.map((r) => (r.type === "pulumi:providers:aws" ? { ...r, inputs: { region: "eu-west-1" } } : r)));
    expect(got).toEqual([
        "repo-shop-api: Repository repo-shop-api (shop/api): its provider pins no region and single account (region, allowedAccountIds), so whose registry it is cannot be told; give it an explicit provider with both.",
        "repo-shop-web: Repository repo-shop-web (shop/web): its provider pins no region and single account (region, allowedAccountIds), so whose registry it is cannot be told; give it an explicit provider with both.",
        expect.stringContaining("api-deployment: Deployment shop-api containers[0] (api) image"),
        expect.stringContaining("web-deployment: Deployment shop-web containers[0] (web) image"),
    ]);
});

test("without config (every policy mandatory): a stack that creates ECR repositories is judged, one that creates none only with requireOwnRegistry", async () => {
    const upstream = defaultSpec();
    api(upstream).containers[0].image = "ghcr.io/example/shop-api:v1.4.2";
    expect(await violationsOf(imageFromStackRegistry, specResources(upstream))).toEqual([expect.stringContaining("is not pinned by a sha256 digest")]);
    upstream.registry.repositories = [];
    expect(await violationsOf(imageFromStackRegistry, specResources(upstream))).toEqual([]);
    expect(await violationsOf(imageFromStackRegistry, specResources(upstream), { properties: { requireOwnRegistry: true } })).toHaveLength(2);
});
