/** Acks first (issue 16): the starts of acknowledged commands wait for the commands still being acked. */
import { describe, expect, it } from 'vitest';
import { AckFirst } from '../src/bot/ack-first.js';
import { waitFor } from './helpers/stack.js';

/** A command in flight until `ack()` is called. */
function inFlight(gate: AckFirst) {
  let ack: () => void = () => undefined;
  const acked = new Promise<void>((r) => {
    ack = r;
  });
  const done = gate.acking(() => acked);
  return { ack, done };
}

describe('AckFirst', () => {
  it('a start waits while another command is still being acked, then runs', async () => {
    const gate = new AckFirst(60_000);
    const first = inFlight(gate);
    const second = inFlight(gate);
    first.ack();
    await first.done;
    let started = false;
    const turn = gate.turn().then(() => {
      started = true;
    });
    // Other work gets many turns of the event loop meanwhile: the start still waits.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(started).toBe(false);
    second.ack();
    await second.done;
    await turn;
    expect(started).toBe(true);
  });

  it('with nothing in flight a start runs at once; under a steady stream, after the bound', async () => {
    expect(await new AckFirst(60_000).turn()).toBeUndefined();
    const gate = new AckFirst(10);
    inFlight(gate); // never acked: a stream that does not stop
    await waitFor('the bounded start', () => gate.turn().then(() => true));
  });
});
