import assert from 'node:assert/strict';
import { parseConfig, type ConfigInput } from '../../core/config.ts';
import { decryptsReplies } from '../../worker/reply.ts';

/** Where a pickup reply goes (worker/reply.ts, docs/delivery.md "Pickup replies to the practice's server"). */
const RELAY = 'smtp://mail.praxis.example:25';

describe('pickup reply route', () => {
  const cases: [string, ConfigInput, boolean][] = [
    ['default, no inbound relay: PGP/MIME', {}, false],
    ['default with an inbound relay: decrypted', { inboundRelay: RELAY }, true],
    ['pgp with an inbound relay: PGP/MIME', { inboundRelay: RELAY, pickup: { replyDelivery: 'pgp' } }, false],
    ['decrypt without an inbound relay: decrypted', { pickup: { replyDelivery: 'decrypt' } }, true],
    [
      'decrypt with an inbound relay: decrypted',
      { inboundRelay: RELAY, pickup: { replyDelivery: 'decrypt' } },
      true,
    ],
  ];
  for (const [name, input, decrypts] of cases)
    it(name, () => assert.equal(decryptsReplies(parseConfig(input)), decrypts));

  it('the default is auto, and an unknown mode is refused at start', () => {
    assert.equal(parseConfig({}).pickup.replyDelivery, 'auto');
    assert.throws(() => parseConfig({ pickup: { replyDelivery: 'clear' } }), /replyDelivery/);
  });
});
