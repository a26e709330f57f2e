// nodeward's acceptor: accepts connections on the gRPC ports and hands each socket to nodeward
// over the IPC channel. Plain JavaScript on purpose: it starts in milliseconds without a loader.
//
// Why a process of its own: libuv accepts one connection per event-loop iteration (libuv#3696).
// In a reconnect storm nodeward's loop iterations are long (TLS handshakes, 2,000 heartbeats a
// second), its accept rate fell to about 80 per second, and the kernel dropped SYNs. This process
// does nothing else, so it accepts as fast as connections arrive, and nodeward receives up to 32
// sockets per iteration through the IPC pipe.
import { createServer } from "node:net";

/** @type {{ name: string; host: string; port: number; backlog: number; maxPending: number }[]} */
const listeners = JSON.parse(process.argv[2] ?? "[]");
let pending = 0;

for (const listener of listeners) {
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    // sockets nodeward has not taken yet stay open here: bound them like its waiting line
    if (pending >= listener.maxPending) {
      socket.destroy();
      return;
    }
    pending += 1;
    process.send?.({ kind: "connection", listener: listener.name }, socket, { keepOpen: false }, (err) => {
      pending -= 1;
      if (err) socket.destroy();
    });
  });
  // After a crash of nodeward, the old acceptor may hold the port for a moment more (it exits when
  // it notices its parent is gone): retry a busy port for up to 5 s before giving up.
  let attempts = 0;
  const listen = () =>
    server.listen({ host: listener.host, port: listener.port, backlog: listener.backlog }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : listener.port;
      process.send?.({ kind: "listening", listener: listener.name, port });
    });
  server.on("error", (err) => {
    if (err.code === "EADDRINUSE" && listener.port !== 0 && ++attempts < 20) {
      setTimeout(listen, 250);
      return;
    }
    process.send?.({ kind: "error", listener: listener.name, message: err.message, code: err.code });
    process.exit(1);
  });
  listen();
}

// nodeward is gone (stopped, crashed or killed): never outlive it
process.on("disconnect", () => process.exit(0));
