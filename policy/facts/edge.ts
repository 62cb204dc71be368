// The edge controller a stack fronts unless its config names another: the program's default
// (config `edge.className`, `edge.controllerNamespace`, `edge.controllerLabels`, which its NetworkPolicies
// admit) and the pack's default identity of the controller the routes' pods must admit.
import { LABEL_KEYS } from "./labels";

/** Traefik as its Helm chart installs it: GatewayClass/IngressClass "traefik", namespace "traefik", pods labelled app.kubernetes.io/name=traefik. */
export const DEFAULT_EDGE_CONTROLLER = {
    className: "traefik",
    namespace: "traefik",
    labels: { [LABEL_KEYS.name]: "traefik" },
} as const;
