import t from 'tap';
import { fullNatScenario } from './fnat-scenario.js';

t.test('Full NAT over tap: real servers with no route to the client', async (t) => {
  await fullNatScenario(t, { backend: 'tap', prefix: 'fnt-' });
});
