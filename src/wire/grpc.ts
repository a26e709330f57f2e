import {
  create,
  type DescMessage,
  type DescService,
  fromBinary,
  isMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";

/**
 * Turns a protobuf-es service descriptor into a grpc-js ServiceDefinition, so both programs use
 * the generated types on the real gRPC transport. Serialisers accept plain objects too.
 */
export function grpcServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const streamsIn = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    const streamsOut = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: streamsIn,
      responseStream: streamsOut,
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.localName,
    };
  }
  return definition as grpc.ServiceDefinition;
}

function serializer(schema: DescMessage) {
  return (value: unknown): Buffer => {
    const message = isMessage(value, schema) ? value : create(schema, value as never);
    return Buffer.from(toBinary(schema, message));
  };
}

function deserializer(schema: DescMessage) {
  return (bytes: Buffer) => fromBinary(schema, bytes);
}

type Init<S extends DescMessage> = MessageInitShape<S>;

/** A typed client: unary methods as promises, streaming methods as grpc-js duplex calls. */
export type TypedClient<T extends GenServiceMethods> = {
  [K in keyof T]: T[K]["methodKind"] extends "unary"
    ? (
        request: Init<T[K]["input"]>,
        options?: { deadlineMs?: number; signal?: AbortSignal },
      ) => Promise<MessageShape<T[K]["output"]>>
    : T[K]["methodKind"] extends "bidi_streaming"
      ? (
          options?: grpc.CallOptions,
        ) => grpc.ClientDuplexStream<Init<T[K]["input"]>, MessageShape<T[K]["output"]>>
      : never;
} & { close(): void; raw: grpc.Client };

export function createTypedClient<T extends GenServiceMethods>(
  service: GenService<T>,
  address: string,
  credentials: grpc.ChannelCredentials,
  options: grpc.ClientOptions = {},
): TypedClient<T> {
  const Ctor = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.typeName);
  const raw = new Ctor(address, credentials, options) as unknown as Record<
    string,
    (...args: unknown[]) => unknown
  > &
    grpc.Client;
  const client: Record<string, unknown> = {
    close: () => raw.close(),
    raw,
  };
  for (const method of service.methods) {
    const invoke = raw[method.localName];
    if (typeof invoke !== "function") continue;
    if (method.methodKind === "unary") {
      client[method.localName] = (
        request: unknown,
        opts: { deadlineMs?: number; signal?: AbortSignal } = {},
      ) =>
        new Promise((resolve, reject) => {
          const deadline = new Date(Date.now() + (opts.deadlineMs ?? 30_000));
          const call = invoke.call(
            raw,
            request,
            new grpc.Metadata(),
            { deadline },
            (err: unknown, res: unknown) => (err ? reject(err) : resolve(res)),
          ) as grpc.ClientUnaryCall;
          opts.signal?.addEventListener("abort", () => call.cancel(), { once: true });
        });
    } else if (method.methodKind === "bidi_streaming") {
      client[method.localName] = (opts?: grpc.CallOptions) => invoke.call(raw, opts ?? {});
    }
  }
  return client as TypedClient<T>;
}

/** Server implementation shape for a service, with typed handlers. */
export type TypedServiceImpl<T extends GenServiceMethods> = {
  [K in keyof T]: T[K]["methodKind"] extends "unary"
    ? grpc.handleUnaryCall<MessageShape<T[K]["input"]>, Init<T[K]["output"]>>
    : T[K]["methodKind"] extends "bidi_streaming"
      ? grpc.handleBidiStreamingCall<MessageShape<T[K]["input"]>, Init<T[K]["output"]>>
      : grpc.UntypedHandleCall;
};

export function addTypedService<T extends GenServiceMethods>(
  server: grpc.Server,
  service: GenService<T>,
  impl: TypedServiceImpl<T>,
): void {
  server.addService(grpcServiceDefinition(service), impl as unknown as grpc.UntypedServiceImplementation);
}

/** gRPC status error with a code, for handlers. */
export function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  const err = new Error(details) as grpc.ServiceError;
  err.code = code;
  err.details = details;
  err.metadata = new grpc.Metadata();
  return err;
}

export { grpc };
