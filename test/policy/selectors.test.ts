// Label-selector semantics as the API server applies them (kube-score's approach; not Polaris'
// "any one label matches").
import { formatSelector, matchSelector, selects } from "../../policy/rules/selectors";

const pod = { app: "shop", component: "api", track: "stable" };

describe("matchSelector", () => {
    test.each([
        ["matchLabels all present", { matchLabels: { app: "shop", component: "api" } }, true],
        ["matchLabels with one label the pod lacks (Polaris' false positive)", { matchLabels: { app: "shop", tier: "api" } }, false],
        ["matchLabels with a different value", { matchLabels: { component: "web" } }, false],
        ["In", { matchExpressions: [{ key: "component", operator: "In", values: ["api", "web"] }] }, true],
        ["In on a missing label", { matchExpressions: [{ key: "tier", operator: "In", values: ["api"] }] }, false],
        ["NotIn excluding the value", { matchExpressions: [{ key: "component", operator: "NotIn", values: ["api"] }] }, false],
        ["NotIn on a missing label matches", { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["api"] }] }, true],
        ["Exists", { matchExpressions: [{ key: "track", operator: "Exists" }] }, true],
        ["Exists on a missing label", { matchExpressions: [{ key: "canary", operator: "Exists" }] }, false],
        ["DoesNotExist on a missing label", { matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, true],
        ["DoesNotExist on a present label", { matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, false],
        ["matchLabels AND matchExpressions: both hold", { matchLabels: { app: "shop" }, matchExpressions: [{ key: "component", operator: "In", values: ["api"] }] }, true],
        ["matchLabels AND matchExpressions: one fails", { matchLabels: { app: "shop" }, matchExpressions: [{ key: "component", operator: "In", values: ["web"] }] }, false],
        ["the empty selector selects everything", {}, true],
        ["empty matchLabels and matchExpressions select everything", { matchLabels: {}, matchExpressions: [] }, true],
    ])("%s", (_title, selector, expected) => {
        expect(matchSelector(selector, pod)).toEqual({ valid: true, matches: expected });
    });

    test("a missing (null) selector selects nothing", () => {
        expect(matchSelector(undefined, pod)).toEqual({ valid: true, matches: false });
        expect(matchSelector(null, pod)).toEqual({ valid: true, matches: false });
    });

    test("a label key that is an Object.prototype member is not present", () => {
        expect(selects({ matchExpressions: [{ key: "toString", operator: "Exists" }] }, pod)).toBe(false);
    });

    test.each([
        [{ matchExpressions: [{ key: "a", operator: "In", values: [] }] }, "needs at least one value"],
        [{ matchExpressions: [{ key: "a", operator: "NotIn" }] }, "needs at least one value"],
        [{ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] }, "must not list values"],
        [{ matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] }, "has operator \"Gt\""],
        [{ matchExpressions: [{ operator: "Exists" }] }, "has no key"],
        [{ matchLabels: { a: 1 } }, "matchLabels[\"a\"] is not a string"],
    ])("invalid: %p", (selector, reason) => {
        const verdict = matchSelector(selector as any, pod);
        expect(verdict.valid).toBe(false);
        expect(verdict.valid ? "" : verdict.reason).toContain(reason);
        expect(selects(selector as any, pod)).toBe(false);
    });
});

test("formatSelector", () => {
    expect(formatSelector({ matchLabels: { a: "1" }, matchExpressions: [
        { key: "b", operator: "In", values: ["x", "y"] }, { key: "c", operator: "NotIn", values: ["z"] },
        { key: "d", operator: "Exists" }, { key: "e", operator: "DoesNotExist" },
    ] })).toBe("a=1,b in (x,y),c notin (z),d,!e");
    expect(formatSelector({})).toBe("<empty: selects everything>");
    expect(formatSelector(undefined)).toBe("<none: selects nothing>");
});
