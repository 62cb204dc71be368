// Secrets: a credential written as a literal env value sits in plain text in the pod spec, the
// Deployment's history, `kubectl describe`, the Pulumi state and every rendered manifest. It must
// come from a Secret (valueFrom.secretKeyRef, or envFrom a Secret).
import { Props, schema, setOrUnknown } from "./common";
import { containersOf, POD_WORKLOADS } from "./k8s";
import { podTemplatePolicy } from "./workloads";

/** Words that make a variable name a credential. */
const CREDENTIAL_WORDS = new Set(["SECRET", "SECRETS", "PASSWORD", "PASSWD", "PASS", "PWD", "TOKEN", "KEY", "APIKEY", "CREDENTIAL",
    "CREDENTIALS", "PRIVATEKEY", "PASSPHRASE", "DSN", "AUTH"]);

/** Last words that make it a reference to a credential, not the credential (…_PASSWORD_FILE, …_SECRET_NAME). */
const REFERENCE_WORDS = new Set(["FILE", "PATH", "DIR", "NAME", "ID", "REF", "URL", "URI", "HOST", "PORT", "ENDPOINT", "TYPE", "ALGORITHM",
    "ALG", "LENGTH", "PREFIX", "SUFFIX", "SIZE", "BITS", "TTL", "EXPIRY", "EXPIRES", "EXPIRATION", "HEADER", "ISSUER", "AUDIENCE", "MODE", "VERSION", "USER", "USERNAME"]);

/** Words that make it a switch about a credential (MYSQL_ALLOW_EMPTY_PASSWORD, MYSQL_RANDOM_ROOT_PASSWORD). */
const SWITCH_WORDS = new Set(["ALLOW", "EMPTY", "RANDOM", "ENABLE", "ENABLED", "DISABLE", "DISABLED", "REQUIRE", "REQUIRED", "SKIP", "GENERATE"]);

/** "DB_PASSWORD" → ["DB", "PASSWORD"]; "apiKey" → ["API", "KEY"]; "x-auth-token" → ["X", "AUTH", "TOKEN"]. */
export function nameWords(name: string): string[] {
    return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w.toUpperCase());
}

/** Does an env var of this name hold a credential? */
export function looksLikeCredential(name: string): boolean {
    const words = nameWords(name);
    // PWD on its own is the shell's working directory.
    if (words.length === 0 || name === "PWD" || REFERENCE_WORDS.has(words[words.length - 1]) || words.some((w) => SWITCH_WORDS.has(w))) {
        return false;
    }
    return words.some((w) => CREDENTIAL_WORDS.has(w));
}

export const envNoLiteralCredentials = podTemplatePolicy({
    name: "env-no-literal-credentials",
    description: "No container (init containers included) has an env var whose name looks like a credential (a word "
        + "such as SECRET, PASSWORD, PASSWD, TOKEN, KEY, API_KEY, CREDENTIALS, PASSPHRASE, DSN, AUTH; not a reference "
        + "such as …_FILE, …_PATH, …_NAME, …_ID, …_URL, nor a switch such as ALLOW_EMPTY_PASSWORD) with a literal "
        + "`value`, known or computed: it would be stored in plain text in the pod spec, the state and every manifest. "
        + "Fix: put it in a Secret and use valueFrom.secretKeyRef (or envFrom.secretRef); list true exceptions in "
        + "`allowedNames`.",
    enforcementLevel: "mandatory",
    severity: "critical",
    configSchema: {
        properties: {
            allowedNames: schema.stringList("Env var names allowed to carry a literal value despite their name.", []),
        },
    },
    types: POD_WORKLOADS,
    validate(template, args, report) {
        const { allowedNames } = args.getConfig<{ allowedNames: string[] }>();
        for (const { where, container } of containersOf(template.spec)) {
            const env: Props[] = Array.isArray(container.env) ? container.env : [];
            for (const e of env) {
                const name = e?.name;
                if (typeof name === "string" && looksLikeCredential(name) && !allowedNames.includes(name) && setOrUnknown(e, "value")) {
                    report(`${where} sets ${name} as a literal value: a credential in plain text in the pod spec. `
                        + "Take it from a Secret (valueFrom.secretKeyRef).");
                }
            }
        }
    },
});

export const secretsPolicies = [envNoLiteralCredentials];
