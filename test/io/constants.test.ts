// The descriptor contract is written down twice, in C++ (native/src/backend.h) and TypeScript
// (src/io/port.ts): the addon exports its numbers and they must be the ones the dataplane uses.
import t from 'tap';
import { loadNative } from '../../src/io/native.js';
import { DESC_WORDS, DROP, HEADROOM, LOCAL, TX, TX_OTHER } from '../../src/io/port.js';

t.test('the addon and src/io agree on the descriptor constants', async (t) => {
  const { constants } = loadNative();
  t.same({ ...constants }, { DESC_WORDS, DROP, TX, TX_OTHER, LOCAL, HEADROOM });
  t.ok(Object.isFrozen(constants), 'read-only');
});
