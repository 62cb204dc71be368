// How the program's pods look up in-cluster names, so that a cluster DNS pod on a lost machine
// costs a client a second, not the node controller's 40-odd seconds.
//
// A Service's cluster IP spreads each new UDP flow over the DNS pods at random (kube-proxy), and a
// DNS pod on a machine that stopped answering stays in those endpoints until its node is NotReady.
// Two things bound what a client loses to it:
//  - the name written out in full with a trailing dot: one name to look up instead of the search
//    list's three (two of them NXDOMAIN, each another chance to hit the silent pod);
//  - a 1 s resolver timeout instead of 5 s, with three tries. Go's resolver (the backend) opens a
//    new socket per try, so each retry is a new flow and likely a live DNS pod; glibc (the
//    database clients) retries on the same socket, so there the gain is the shorter wait.
// Measured in docs/drills.md (machine loss with a CoreDNS pod on it).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Seconds a resolver waits for one answer, and how many tries it makes (resolv.conf `timeout`, `attempts`). */
export const RESOLVER_TIMEOUT_SECONDS = 1;
export const RESOLVER_ATTEMPTS = 3;

/** The pod `dnsConfig` every workload of the program that opens connections by name runs with. */
export const CLIENT_DNS_CONFIG: k8s.types.input.core.v1.PodDNSConfig = Object.freeze({
    options: Object.freeze([
        { name: "timeout", value: String(RESOLVER_TIMEOUT_SECONDS) },
        { name: "attempts", value: String(RESOLVER_ATTEMPTS) },
    ]),
}) as k8s.types.input.core.v1.PodDNSConfig;

/** A Service's fully qualified name with the trailing dot: resolvers try it as is, never through the search list. */
export function serviceAddress(service: pulumi.Input<string>, namespace: pulumi.Input<string>, clusterDomain: string): pulumi.Output<string> {
    return pulumi.interpolate`${service}.${namespace}.svc.${clusterDomain}.`;
}
