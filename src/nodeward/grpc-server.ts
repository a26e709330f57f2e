import { isRunosError } from "../common/errors.js";
import type { Logger } from "../common/log.js";
import { grpc, grpcError } from "../wire/grpc.js";

/**
 * Server-side keepalive: a vanished agent's connection (and its stream) is dropped in ~80 s.
 * channelz (grpc-js's introspection registry) is off: it keeps trackers and trace strings for
 * every connection and counts every message, which we never read.
 */
export const serverOptions: grpc.ServerOptions = {
  "grpc.enable_channelz": 0,
  "grpc.keepalive_time_ms": 60_000,
  "grpc.keepalive_timeout_ms": 20_000,
  "grpc.max_receive_message_length": 16 * 1024 * 1024,
};

/** Lets in-flight calls finish for up to graceMs, then cuts the rest. */
export function shutdownServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const statusOf: Partial<Record<string, grpc.status>> = {
  NA_INVALID_INPUT: grpc.status.INVALID_ARGUMENT,
  NA_TOKEN_REJECTED: grpc.status.PERMISSION_DENIED,
  NA_UNAUTHORIZED: grpc.status.UNAUTHENTICATED,
  NA_NOT_FOUND: grpc.status.NOT_FOUND,
  NA_UNSUPPORTED: grpc.status.UNIMPLEMENTED,
  // e.g. a cluster whose /24 has no free address left: the caller must change something first
  NA_CONFLICT: grpc.status.FAILED_PRECONDITION,
};

/**
 * Runs an async unary handler and answers through the callback. Our coded errors keep their
 * message; anything else is logged and leaves as INTERNAL without details.
 */
export function unary<Req, Res>(
  log: Logger,
  method: string,
  handler: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call).then(
      (response) => callback(null, response),
      (err: unknown) => {
        if (isRunosError(err)) {
          const code = statusOf[err.code];
          if (code !== undefined) return callback(grpcError(code, err.message));
        } else if (isGrpcStatusError(err)) {
          return callback(err);
        }
        log.error({ err, method }, "request failed");
        callback(grpcError(grpc.status.INTERNAL, `${method} failed on the server`));
      },
    );
  };
}

function isGrpcStatusError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as grpc.ServiceError).code === "number";
}

export function unimplementedUnary<Req, Res>(method: string): grpc.handleUnaryCall<Req, Res> {
  return (_call, callback) => callback(notImplemented(method));
}

export function unimplementedBidi<Req, Res>(method: string): grpc.handleBidiStreamingCall<Req, Res> {
  return (call) => call.emit("error", notImplemented(method));
}

function notImplemented(method: string): grpc.ServiceError {
  return grpcError(grpc.status.UNIMPLEMENTED, `${method} is not implemented by nodeward`);
}
