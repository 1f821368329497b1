import type { DescMessage, Message } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";

/** Encodes messages of one schema for grpc-js, without copying the bytes again. */
export function serializer(schema: DescMessage): (message: Message) => Buffer {
  return (message) => {
    const bytes = toBinary(schema, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/** Decodes messages of one schema from what grpc-js received. */
export function deserializer(schema: DescMessage): (bytes: Buffer) => Message {
  return (bytes) => fromBinary(schema, bytes);
}

/** Encodes and decodes a message, so in-process calls share nothing with their caller, as on the wire. */
export function roundTrip(schema: DescMessage, message: Message): Message {
  return fromBinary(schema, toBinary(schema, message));
}
