// Probe endpoints: declared ports, and liveness ≠ readiness by endpoint whatever the timings.
import { probeEndpoints } from "../../policy/rules/probes";
import { Spec } from "../fixtures/_lib/spec";
import { policyCases } from "./support";

const api = (s: Spec) => s.tiers.api.deployment.spec.template.spec.containers[0];

policyCases(probeEndpoints, [
    {
        title: "a probe on a port name the container does not declare",
        mutate: (s) => { api(s).readinessProbe.httpGet.port = "metrics"; },
        expected: ["api-deployment: containers[0] (api) readinessProbe.httpGet.port is \"metrics\", which the container does not declare (ports: http:8080)."],
    },
    {
        title: "a probe on a port number the container does not declare",
        mutate: (s) => { api(s).livenessProbe = { tcpSocket: { port: 9000 } }; },
        expected: ["api-deployment: containers[0] (api) livenessProbe.tcpSocket.port is 9000, which the container does not declare"],
    },
    {
        title: "a startup probe is checked too",
        mutate: (s) => { api(s).startupProbe = { grpc: { port: 9090 } }; },
        expected: ["startupProbe.grpc.port is 9090"],
    },
    { title: "a probe on the declared port number passes", mutate: (s) => { api(s).livenessProbe.httpGet.port = 8080; }, expected: [] },
    {
        title: "same path and port with different timings and headers",
        mutate: (s) => {
            api(s).readinessProbe = { httpGet: { path: "/healthz", port: 8080, httpHeaders: [{ name: "X-Probe", value: "ready" }] }, periodSeconds: 3, failureThreshold: 1 };
        },
        expected: ["api-deployment: containers[0] (api) livenessProbe and readinessProbe both hit HTTP port 8080 path /healthz"],
    },
    {
        title: "the same path with a query string is the same endpoint",
        mutate: (s) => { api(s).readinessProbe.httpGet.path = "/healthz?ready=1"; },
        expected: ["both hit HTTP port 8080 path /healthz"],
    },
    {
        title: "tcp liveness and readiness on one port",
        mutate: (s) => { api(s).livenessProbe = { tcpSocket: { port: "http" } }; api(s).readinessProbe = { tcpSocket: { port: 8080 }, periodSeconds: 2 }; },
        expected: ["both hit TCP port 8080"],
    },
    {
        title: "same path on different ports passes",
        mutate: (s) => {
            api(s).ports.push({ name: "admin", containerPort: 9901 });
            api(s).readinessProbe = { httpGet: { path: "/healthz", port: "admin" } };
        },
        expected: [],
    },
]);
