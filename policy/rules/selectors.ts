// Kubernetes label-selector semantics (metav1.LabelSelector), as the API server and the
// disruption, scheduling and HPA controllers apply them:
//   - matchLabels AND every matchExpressions requirement must hold;
//   - In: the label exists and its value is listed; NotIn: the label is absent or its value is
//     not listed; Exists / DoesNotExist: presence only;
//   - an empty selector ({}) selects everything, a missing (null) selector selects nothing.
// Polaris decides "a PDB covers a Deployment" when any one label matches; that is wrong both
// ways (a PDB with an extra label the pods lack selects none of them).

export interface LabelSelectorRequirement {
    key: string;
    operator: string;
    values?: string[];
}

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: LabelSelectorRequirement[];
}

export type Labels = Record<string, string>;

export type SelectorVerdict = { valid: true; matches: boolean } | { valid: false; reason: string };

/** Checks a selector's shape the way the API server's validation does. */
export function selectorProblem(selector: LabelSelector | null | undefined): string | undefined {
    if (selector === null || selector === undefined) {
        return undefined;
    }
    if (typeof selector !== "object" || Array.isArray(selector)) {
        return "the selector is not an object";
    }
    const matchLabels = selector.matchLabels ?? {};
    if (typeof matchLabels !== "object" || Array.isArray(matchLabels)) {
        return "matchLabels is not a map";
    }
    for (const [key, value] of Object.entries(matchLabels)) {
        if (typeof value !== "string") {
            return `matchLabels["${key}"] is not a string`;
        }
    }
    const expressions = selector.matchExpressions ?? [];
    if (!Array.isArray(expressions)) {
        return "matchExpressions is not a list";
    }
    for (const [i, req] of expressions.entries()) {
        const values = req?.values ?? [];
        if (typeof req?.key !== "string" || req.key === "") {
            return `matchExpressions[${i}] has no key`;
        }
        if (!Array.isArray(values) || values.some((v) => typeof v !== "string")) {
            return `matchExpressions[${i}].values is not a list of strings`;
        }
        switch (req.operator) {
            case "In":
            case "NotIn":
                if (values.length === 0) {
                    return `matchExpressions[${i}] (${req.key} ${req.operator}) needs at least one value`;
                }
                break;
            case "Exists":
            case "DoesNotExist":
                if (values.length > 0) {
                    return `matchExpressions[${i}] (${req.key} ${req.operator}) must not list values`;
                }
                break;
            default:
                return `matchExpressions[${i}] has operator "${req.operator}"; allowed: In, NotIn, Exists, DoesNotExist`;
        }
    }
    return undefined;
}

/** Does `selector` select an object carrying `labels`? */
export function matchSelector(selector: LabelSelector | null | undefined, labels: Labels): SelectorVerdict {
    const problem = selectorProblem(selector);
    if (problem) {
        return { valid: false, reason: problem };
    }
    if (selector === null || selector === undefined) {
        return { valid: true, matches: false };
    }
    const own = (key: string) => Object.prototype.hasOwnProperty.call(labels, key);
    for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
        if (!own(key) || labels[key] !== value) {
            return { valid: true, matches: false };
        }
    }
    for (const req of selector.matchExpressions ?? []) {
        const present = own(req.key);
        const values = req.values ?? [];
        let ok: boolean;
        switch (req.operator) {
            case "In":
                ok = present && values.includes(labels[req.key]);
                break;
            case "NotIn":
                ok = !present || !values.includes(labels[req.key]);
                break;
            case "Exists":
                ok = present;
                break;
            default: // DoesNotExist (selectorProblem rejected everything else)
                ok = !present;
        }
        if (!ok) {
            return { valid: true, matches: false };
        }
    }
    return { valid: true, matches: true };
}

/** True only for a valid selector that selects `labels`. */
export function selects(selector: LabelSelector | null | undefined, labels: Labels): boolean {
    const verdict = matchSelector(selector, labels);
    return verdict.valid && verdict.matches;
}

/** kubectl-style rendering, for messages: "app=web,tier in (a,b),!canary". */
export function formatSelector(selector: LabelSelector | null | undefined): string {
    if (selector === null || selector === undefined) {
        return "<none: selects nothing>";
    }
    const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
    for (const req of selector.matchExpressions ?? []) {
        const values = (req.values ?? []).join(",");
        switch (req.operator) {
            case "In": parts.push(`${req.key} in (${values})`); break;
            case "NotIn": parts.push(`${req.key} notin (${values})`); break;
            case "Exists": parts.push(req.key); break;
            case "DoesNotExist": parts.push(`!${req.key}`); break;
            default: parts.push(`${req.key} ${req.operator} (${values})`);
        }
    }
    return parts.length > 0 ? parts.join(",") : "<empty: selects everything>";
}

/** "a=1,b=2", for messages. */
export function formatLabels(labels: Labels): string {
    const entries = Object.entries(labels);
    return entries.length > 0 ? entries.map(([k, v]) => `${k}=${v}`).join(",") : "no labels";
}
