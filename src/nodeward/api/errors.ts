import type { FastifyError, FastifyReply } from "fastify";
import * as z from "zod";
import type { ErrorCode } from "../../common/error-codes.js";
import { isRunosError, RunosError } from "../../common/errors.js";
import type { Logger } from "../../common/log.js";

const httpStatus: Partial<Record<ErrorCode, number>> = {
  NA_USAGE: 400,
  NA_INVALID_INPUT: 400,
  NA_UNAUTHORIZED: 401,
  NA_NOT_FOUND: 404,
  NA_CONFLICT: 409,
  NA_STREAM_CLOSED: 503,
  NA_TIMEOUT: 504,
};

export interface ApiErrorBody {
  error: { code: string; message: string };
}

/** Validates a request part with a schema: a typed value, or one NA_INVALID_INPUT with zod's message. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new RunosError("NA_INVALID_INPUT", `invalid ${what}: ${z.prettifyError(result.error)}`);
}

/** Every failure leaves as `{error:{code,message}}`; internal details stay in the log. */
export function sendError(reply: FastifyReply, err: unknown, log: Logger): FastifyReply {
  if (isRunosError(err)) {
    const status = httpStatus[err.code] ?? 500;
    if (status === 500) log.error({ err }, "API request failed");
    return reply.status(status).send(body(err.code, status === 500 ? "internal error" : err.message));
  }
  const fastifyError = err as FastifyError;
  if (typeof fastifyError.statusCode === "number" && fastifyError.statusCode < 500) {
    return reply.status(fastifyError.statusCode).send(body("NA_INVALID_INPUT", fastifyError.message));
  }
  log.error({ err }, "API request failed");
  return reply.status(500).send(body("NA_INTERNAL", "internal error"));
}

export function body(code: string, message: string): ApiErrorBody {
  return { error: { code, message } };
}
