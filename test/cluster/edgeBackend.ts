// A stand-in for a KubePolaris backend pod in the edge test (test/cluster/edge.test.ts), and the
// WebSocket framing the test's client shares with it. Run as a program it serves one replica:
//   ts-node test/cluster/edgeBackend.ts <address> <port> <frontend|backend>
// The backend answers POST /api/v1/auth/login with a token signed by the secret every replica
// shares (as 1.0.5's JWT), upgrades /ws/* when the token verifies, greets with its address and
// echoes each message; the frontend answers every GET with a page.
import { createHash, createHmac } from "crypto";
import * as http from "http";
import * as net from "net";

export const JWT_SECRET = "edge-test-shared-secret";
export const LOGIN = { username: "admin", password: "s3cret-password" };
export const FRONTEND_PAGE = "<html>kubepolaris frontend</html>";

export const sign = (user: string) => `${user}.${createHmac("sha256", JWT_SECRET).update(user).digest("hex")}`;
const verify = (token: string | null) => !!token && sign(token.split(".")[0]) === token;

/** A backend replica: POST /api/v1/auth/login answers a token; /ws/* upgrades (token in the query) and echoes. */
export function backendReplica(replica: string): http.Server {
    const server = http.createServer((req, res) => {
        if (req.method === "POST" && req.url === "/api/v1/auth/login") {
            let body = "";
            req.on("data", (d) => { body += d; });
            req.on("end", () => {
                const { username, password } = JSON.parse(body || "{}");
                const ok = username === LOGIN.username && password === LOGIN.password;
                res.writeHead(ok ? 200 : 401, { "content-type": "application/json", "x-replica": replica });
                res.end(JSON.stringify(ok ? { code: 200, data: { token: sign(username) }, replica } : { code: 401 }));
            });
            return;
        }
        res.writeHead(404, { "x-replica": replica });
        res.end();
    });
    server.on("upgrade", (req, socket: net.Socket) => {
        const token = new URL(req.url ?? "/", "http://x").searchParams.get("token");
        if (!req.url?.startsWith("/ws/") || !verify(token)) {
            socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
            return;
        }
        const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        socket.write(frame(`hello from ${replica}`, false));
        readFrames(socket, (text) => socket.write(frame(`${replica} echo: ${text}`, false)));
    });
    return server;
}

/** One unfragmented text frame (clients mask theirs, servers do not). */
export function frame(text: string, mask: boolean): Buffer {
    const payload = Buffer.from(text);
    const key = Buffer.from([1, 2, 3, 4]);
    const head = payload.length < 126 ? Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]) : Buffer.from([0x81, (mask ? 0x80 : 0) | 126, payload.length >> 8, payload.length & 255]);
    const body = mask ? Buffer.from(payload.map((b, i) => b ^ key[i % 4])) : payload;
    return Buffer.concat([head, ...(mask ? [key] : []), body]);
}

/** Calls `onText` with each text frame read from `socket` (short frames only: this test's messages). */
export function readFrames(socket: net.Socket, onText: (text: string) => void, initial = Buffer.alloc(0)): void {
    let buf = initial;
    const drain = () => {
        while (buf.length >= 2) {
            const masked = (buf[1] & 0x80) !== 0;
            let len = buf[1] & 0x7f;
            let off = 2;
            if (len === 126) {
                len = buf.readUInt16BE(2);
                off = 4;
            }
            const need = off + (masked ? 4 : 0) + len;
            if (buf.length < need) {
                return;
            }
            const key = masked ? buf.subarray(off, off + 4) : undefined;
            const data = buf.subarray(off + (masked ? 4 : 0), need);
            const text = Buffer.from(data.map((b, i) => (key ? b ^ key[i % 4] : b))).toString();
            buf = buf.subarray(need);
            if (text !== "") {
                onText(text);
            }
        }
    };
    socket.on("data", (d) => { buf = Buffer.concat([buf, d]); drain(); });
    drain();
}


function frontend(): http.Server {
    return http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(FRONTEND_PAGE);
    });
}

if (require.main === module) {
    const [address, port, kind] = process.argv.slice(2);
    const server = kind === "frontend" ? frontend() : backendReplica(address);
    server.listen(Number(port), address, () => console.log(`${kind} listening on ${address}:${port}`));
}
