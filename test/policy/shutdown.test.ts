// Graceful shutdown: the grace period covers the preStop wait plus a margin.
import { preStopWaitSeconds, shellSleepSeconds, terminationGraceCoversPreStop } from "../../policy/rules/shutdown";
import { Spec } from "../fixtures/_lib/spec";
import { policyCases } from "./support";

const pod = (s: Spec) => s.tiers.api.deployment.spec.template.spec;

policyCases(terminationGraceCoversPreStop, [
    {
        title: "a sleep action as long as the grace period",
        mutate: (s) => { pod(s).terminationGracePeriodSeconds = 30; pod(s).containers[0].lifecycle = { preStop: { sleep: { seconds: 30 } } }; },
        expected: ["api-deployment: containers[0] (api) waits 30s in preStop (sleep action 30s) but terminationGracePeriodSeconds is 30: the process gets 0s after SIGTERM, less than the 10s margin, and is killed mid-request. Set terminationGracePeriodSeconds to at least 40."],
    },
    {
        title: "an exec sleep longer than the default grace period",
        mutate: (s) => { pod(s).containers[0].lifecycle = { preStop: { exec: { command: ["/bin/sh", "-c", "sleep 25 && nginx -s quit"] } } }; },
        expected: ["waits 25s in preStop (exec [\"/bin/sh\",\"-c\",\"sleep 25 && nginx -s quit\"]) but terminationGracePeriodSeconds is 30 (the default): the process gets 5s"],
    },
    {
        title: "a margin the environment asks for",
        mutate: (s) => { pod(s).terminationGracePeriodSeconds = 40; pod(s).containers[0].lifecycle = { preStop: { sleep: { seconds: 10 } } }; },
        config: { properties: { marginSeconds: 45 } },
        expected: ["less than the 45s margin"],
    },
    {
        title: "preStop 10 s and 60 s grace passes",
        mutate: (s) => { pod(s).terminationGracePeriodSeconds = 60; pod(s).containers[0].lifecycle = { preStop: { sleep: { seconds: 10 } } }; },
        expected: [],
    },
    {
        title: "a preStop whose wait cannot be known (an HTTP call) passes",
        mutate: (s) => { pod(s).terminationGracePeriodSeconds = 5; pod(s).containers[0].lifecycle = { preStop: { httpGet: { path: "/drain", port: "http" } } }; },
        expected: [],
    },
]);

test.each([
    ["sleep 10", 10],
    ["/bin/sleep 5; nginx -s quit", 5],
    ["sleep 1m", 60],
    ["sleep 2 && sleep 3", 5],
    ["nginx -s quit", undefined],
    ["echo nosleep 100", undefined],
])("shellSleepSeconds(%p) = %p", (line, seconds) => {
    expect(shellSleepSeconds(line)).toBe(seconds);
});

test("an exec hook given as argv is read like a shell line", () => {
    expect(preStopWaitSeconds({ exec: { command: ["sleep", "15"] } })?.seconds).toBe(15);
});
