/** An outbox row the relay can never publish: its event type is not one it knows. */
export class UnknownOutboxEventError extends Error {
  override readonly name = "UnknownOutboxEventError";

  constructor(
    readonly msgID: string,
    readonly eventType: string,
  ) {
    super(
      `outbox row ${msgID} names event type "${eventType}", which is not in the bus catalogue this relay knows`,
    );
  }
}
