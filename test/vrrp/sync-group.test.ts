import t from 'tap';

import { faultReason, groupMove, syncGroupsByInstance, type SyncMember } from '../../src/vrrp/sync-group.js';
import type { VrrpState } from '../../src/vrrp/state.js';
import type { TrackedState } from '../../src/vrrp/tracking.js';

function member(name: string, syncGroup: string | null, state: VrrpState = 'BACKUP', tracked: TrackedState[] = []): SyncMember {
  return { cfg: { name }, syncGroup, params: { basePriority: 100 }, tracked, runtime: { state } };
}
const linkDown: TrackedState[] = [{ name: 'own:eth0', weight: 0, up: false }];

t.test('sync groups by instance: unknown members ignored, the last group wins', async (t) => {
  const groups = [{ name: 'G1', group: ['A', 'B', 'X'] }, { name: 'G2', group: ['C', 'B'] }];
  t.same([...syncGroupsByInstance(groups, ['A', 'B', 'C', 'D'])], [['A', 'G1'], ['B', 'G2'], ['C', 'G2']]);
  t.same([...syncGroupsByInstance(undefined, ['A'])], []);
});

t.test('fault reason: own tracking first, then a faulty member of the group', async (t) => {
  const a = member('A', 'G', 'BACKUP', linkDown);
  const b = member('B', 'G');
  const c = member('C', null);
  const all = [a, b, c];
  t.equal(faultReason(a, all), 'tracking: own:eth0 failed');
  t.equal(faultReason(b, all), 'sync group G: A faulty');
  t.equal(faultReason(c, all), null, 'not in a group: only its own tracking counts');
  t.equal(faultReason(member('D', 'H'), all), null);
});

t.test('a move to MASTER: every other member follows, with the reason', async (t) => {
  const a = member('A', 'G', 'MASTER');
  const b = member('B', 'G');
  const c = member('C', 'other');
  const move = groupMove(a, [a, b, c], { type: 'timer' }, true, { from: 'BACKUP', to: 'MASTER', reason: 'master down' });
  t.same(move, { group: 'G', to: 'MASTER', followers: [{ member: b, events: [{ type: 'sync', to: 'MASTER', why: 'sync group G: A master down' }] }] });
});

t.test('no echo: a followed move, a non-propagating one, no group, INIT or STOP', async (t) => {
  const a = member('A', 'G');
  const b = member('B', 'G');
  const tr = { from: 'BACKUP' as const, to: 'MASTER' as const, reason: 'x' };
  t.equal(groupMove(a, [a, b], { type: 'sync', to: 'MASTER', why: 'y' }, true, tr), null);
  t.equal(groupMove(a, [a, b], { type: 'timer' }, false, tr), null);
  const lone = member('L', null);
  t.equal(groupMove(lone, [lone], { type: 'timer' }, true, tr), null);
  t.equal(groupMove(a, [a, b], { type: 'shutdown' }, true, { from: 'MASTER', to: 'STOP', reason: 'stop' }), null);
});

t.test('leaving FAULT: a member faulty only because of the group leaves it too', async (t) => {
  const a = member('A', 'G', 'BACKUP');
  const b = member('B', 'G', 'FAULT');
  const c = member('C', 'G', 'FAULT', linkDown);
  const move = groupMove(a, [a, b, c], { type: 'faultCleared' }, true, { from: 'FAULT', to: 'BACKUP', reason: 'fault cleared' });
  t.ok(move);
  t.same(move!.followers[0].events.map((e) => e.type), ['sync'], 'B: A is fine but C still faulty, so B stays (sync only)');
  t.same(move!.followers[1].events.map((e) => e.type), ['sync'], 'C: its own link is down');
  const healthy = member('C', 'G', 'FAULT');
  const again = groupMove(a, [a, b, healthy], { type: 'faultCleared' }, true, { from: 'FAULT', to: 'BACKUP', reason: 'fault cleared' });
  t.same(again!.followers.map((f) => f.events.map((e) => e.type)), [['faultCleared', 'sync'], ['faultCleared', 'sync']]);
});
