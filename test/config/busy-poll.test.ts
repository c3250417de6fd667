// dataplane.busy_poll and busy_poll_spin_us: what parses, what is refused (FILE:LINE:COL).
import t from 'tap';
import { ConfigError } from '../../src/config/diagnostics.js';
import { loadConfigText } from '../../src/config/load.js';

function refusal(yaml: string): string {
  try {
    loadConfigText(yaml, 'bp.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
}

t.test('busy_poll parses false, true and adaptive; false by default', async (t) => {
  t.equal(loadConfigText('dataplane: { interface: eth0 }\n', 'bp.yaml').config.dataplane.busy_poll, false, 'default false');
  for (const mode of [false, true, 'adaptive'] as const) {
    t.equal(loadConfigText(`dataplane: { busy_poll: ${mode} }\n`, 'bp.yaml').config.dataplane.busy_poll, mode, `busy_poll: ${mode}`);
  }
  const adaptive = loadConfigText('dataplane:\n  busy_poll: adaptive\n  busy_poll_spin_us: 500\n', 'bp.yaml').config.dataplane;
  t.equal(adaptive.busy_poll_spin_us, 500, 'adaptive takes a spin time');
  t.equal(loadConfigText('dataplane: { busy_poll: adaptive }\n', 'bp.yaml').config.dataplane.busy_poll_spin_us, undefined,
    'absent: the worker uses its default (idle-strategy.ts)');
});

t.test('busy_poll refuses other values and a spin time it would not use', async (t) => {
  t.match(refusal('dataplane:\n  busy_poll: always\n'), /^bp\.yaml:2:14: .*busy_poll/m, 'an unknown mode at its line and column');
  t.match(refusal('dataplane:\n  busy_poll: adaptive\n  busy_poll_spin_us: 0\n'), /^bp\.yaml:3:22: /m, 'a spin time of 0');
  t.match(refusal('dataplane:\n  busy_poll: adaptive\n  busy_poll_spin_us: 1.5\n'), /^bp\.yaml:3:22: /m, 'a fractional spin time');
  t.match(refusal('dataplane:\n  busy_poll: true\n  busy_poll_spin_us: 100\n'),
    /^bp\.yaml:3:\d+: dataplane\.busy_poll_spin_us applies only to busy_poll: adaptive \(busy_poll is true\)/m, 'a spin time with true (it spins without end)');
  t.match(refusal('dataplane:\n  busy_poll_spin_us: 100\n'), /busy_poll is false/, 'a spin time without busy_poll');
});
