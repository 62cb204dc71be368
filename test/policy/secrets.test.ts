// Literal credentials in env.
import { envNoLiteralCredentials, looksLikeCredential } from "../../policy/rules/secrets";
import { Spec } from "../fixtures/_lib/spec";
import { policyCases, UNKNOWN } from "./support";

const env = (s: Spec, vars: object[]) => { s.tiers.api.deployment.spec.template.spec.containers[0].env = vars; };

policyCases(envNoLiteralCredentials, [
    {
        title: "a literal database password",
        mutate: (s) => env(s, [{ name: "DB_PASSWORD", value: "hunter2" }]),
        expected: ["api-deployment: containers[0] (api) sets DB_PASSWORD as a literal value: a credential in plain text in the pod spec. Take it from a Secret (valueFrom.secretKeyRef)."],
    },
    { title: "a camelCase API key", mutate: (s) => env(s, [{ name: "stripeApiKey", value: "sk_live_x" }]), expected: ["sets stripeApiKey as a literal value"] },
    {
        title: "a literal computed from another resource (unknown in preview) is still a literal",
        mutate: (s) => env(s, [{ name: "JWT_SECRET", value: UNKNOWN }]),
        expected: ["sets JWT_SECRET as a literal value"],
    },
    {
        title: "in an init container",
        mutate: (s) => { s.tiers.api.deployment.spec.template.spec.initContainers = [{ name: "migrate", image: "x:v1", env: [{ name: "GITHUB_TOKEN", value: "ghp_x" }] }]; },
        expected: ["api-deployment: initContainers[0] (migrate) sets GITHUB_TOKEN as a literal value"],
    },
    { title: "from a Secret passes", mutate: (s) => env(s, [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }]), expected: [] },
    { title: "an allowed exception", mutate: (s) => env(s, [{ name: "PUBLIC_KEY", value: "ssh-ed25519 AAAA" }]), config: { properties: { allowedNames: ["PUBLIC_KEY"] } }, expected: [] },
    { title: "an empty literal passes", mutate: (s) => env(s, [{ name: "REDIS_PASSWORD", value: "" }]), expected: [] },
]);

test.each([
    ["DB_PASSWORD", true], ["MYSQL_PWD", true], ["AWS_SECRET_ACCESS_KEY", true], ["apiKey", true], ["X_AUTH_TOKEN", true], ["SENTRY_DSN", true],
    ["DB_PASSWORD_FILE", false], ["JWT_SECRET_NAME", false], ["AWS_ACCESS_KEY_ID", false], ["TOKEN_URL", false], ["DB_USERNAME", false],
    ["MYSQL_ALLOW_EMPTY_PASSWORD", false], ["MYSQL_RANDOM_ROOT_PASSWORD", false], ["KEYCLOAK_REALM", false], ["PWD", false], ["SERVER_MODE", false],
])("looksLikeCredential(%p) = %p", (name, expected) => {
    expect(looksLikeCredential(name)).toBe(expected);
});
