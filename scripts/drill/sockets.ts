// Long-lived WebSockets during a drill: what a user with a terminal open feels. A few sockets are
// held open on the backend's terminal under /ws through the edge, each pinged every second; a
// socket that closes (or errors) is a drop, one whose pongs stop for HUNG_AFTER_S is a hung socket
// (the worst case: the user's terminal freezes with no error). After either, the client reconnects
// at once and keeps trying every RETRY_MS; the time until it is open again is what the user waits.
import WebSocket from "ws";
import { BACKEND } from "../../app/kubepolaris";

const TERMINAL_PATH = BACKEND.api.terminalSocket;

const PING_MS = 1000;
const HUNG_AFTER_S = 5;
const RETRY_MS = 200;

export interface SocketDrop {
    /** Seconds since the sockets were opened. */
    t: number;
    how: "closed" | "hung";
    /** Seconds until the same client had an open socket again; null if it never had by the end. */
    backAfterS: number | null;
}

export interface SocketFigures {
    sockets: number;
    drops: SocketDrop[];
}

export interface SocketPool {
    stop(): SocketFigures;
}

/** Opens `count` sockets (resolves when all are open) and keeps them open until stop(). */
export async function holdSockets(edgeUrl: string, token: string, count: number): Promise<SocketPool> {
    const url = `${new URL(TERMINAL_PATH, edgeUrl).href.replace(/^http/, "ws")}?token=${encodeURIComponent(token)}`;
    const startedAt = Date.now();
    const drops: SocketDrop[] = [];
    let stopped = false;
    const live = new Set<WebSocket>();
    const seconds = () => Math.round((Date.now() - startedAt) / 100) / 10;

    const client = (): Promise<void> => new Promise((firstOpen) => {
        let pending: SocketDrop | undefined;
        const connect = () => {
            if (stopped) {
                return;
            }
            const ws = new WebSocket(url, { handshakeTimeout: 5_000 });
            live.add(ws);
            let lastPong = Date.now();
            let pinger: NodeJS.Timeout | undefined;
            let over = false;
            let opened = false;
            const lost = (how: SocketDrop["how"]) => {
                if (over) {
                    return;
                }
                over = true;
                clearInterval(pinger);
                live.delete(ws);
                ws.removeAllListeners();
                ws.on("error", () => undefined);
                ws.terminate();
                if (stopped) {
                    return;
                }
                // A failed reconnect attempt is not a new drop: the user is still waiting for the first.
                if (!pending && opened) {
                    pending = { t: seconds(), how, backAfterS: null };
                    drops.push(pending);
                }
                setTimeout(connect, RETRY_MS);
            };
            ws.on("open", () => {
                opened = true;
                lastPong = Date.now();
                if (pending) {
                    pending.backAfterS = Math.round((seconds() - pending.t) * 10) / 10;
                    pending = undefined;
                }
                firstOpen();
                pinger = setInterval(() => {
                    if (Date.now() - lastPong > HUNG_AFTER_S * 1000) {
                        lost("hung");
                    } else {
                        ws.ping();
                    }
                }, PING_MS);
            });
            ws.on("pong", () => { lastPong = Date.now(); });
            ws.on("close", () => lost("closed"));
            ws.on("error", () => lost("closed"));
            ws.on("unexpected-response", () => lost("closed"));
        };
        connect();
    });

    await Promise.race([
        Promise.all(Array.from({ length: count }, client)),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`sockets: ${count} WebSockets to ${TERMINAL_PATH} not all open within 15 s`)), 15_000)),
    ]).catch((e) => {
        stopped = true;
        live.forEach((ws) => ws.terminate());
        throw e;
    });
    return {
        stop() {
            stopped = true;
            live.forEach((ws) => { ws.removeAllListeners(); ws.on("error", () => undefined); ws.terminate(); });
            return { sockets: count, drops: drops.map((d) => ({ ...d })) };
        },
    };
}
