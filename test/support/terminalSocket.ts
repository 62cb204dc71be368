// The WebSocket every served-path test opens: the backend's SSH terminal under /ws/, which answers a
// `connect` without its settings with an error message (so a reply proves the backend spoke), and
// refuses an upgrade without a token with 401.
import WebSocket from "ws";
import { BACKEND } from "../../app/kubepolaris";

/** The terminal's path under the WebSocket prefix. */
export const TERMINAL_PATH = BACKEND.api.terminalSocket;

/** Opens `url` (ws://… or ws+unix://…:<path>) with the token, sends a connect, and returns the first message. */
export function terminalReply(url: string, token: string): Promise<string> {
    const ws = new WebSocket(`${url}?token=${encodeURIComponent(token)}`);
    return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no message through the WebSocket within 10 s")), 10_000);
        ws.on("open", () => ws.send(JSON.stringify({ type: "connect" })));
        ws.on("message", (data) => { clearTimeout(timer); resolve(data.toString()); ws.close(); });
        ws.on("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
        ws.on("error", reject);
    });
}

/** The HTTP status an upgrade without a token gets (fails if it is accepted). */
export function anonymousUpgradeStatus(url: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
        const anonymous = new WebSocket(url);
        anonymous.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        anonymous.on("open", () => reject(new Error("a WebSocket without a token was accepted")));
        anonymous.on("error", reject);
    });
}
