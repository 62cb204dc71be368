// How long a proxy in front of the backend lets a connection idle: one value for every hop (the
// edge, the frontend's nginx), since the shortest hop closes a WebSocket for all of them.

/** Seconds an idle proxied connection stays open: WebSockets under /ws (log streams, terminals) stay open for an hour. */
export const WEBSOCKET_IDLE_TIMEOUT_SECONDS = 3600;
