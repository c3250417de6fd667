import fc from 'fast-check';
import t from 'tap';
import {
  applyThresholds, checkThresholds, clearOverloadOnUnbind, createScheduler, markOverloadOnBind, realServerSetFrom,
} from '../../src/schedulers/index.js';
import { oracleOverloadAfter } from './oracle.js';

const ip = (n: number) => 0xc6120000 + n;

t.test('the overload flag follows the IPVS hysteresis for any bind/unbind sequence', async () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 0, max: 20 }),
      fc.array(fc.record({ bind: fc.boolean(), active: fc.boolean() }), { maxLength: 200 }),
      (upper, lowerRaw, events) => {
        const lower = upper === 0 ? 0 : Math.min(lowerRaw, upper);
        const set = realServerSetFrom([{ ip: ip(1), port: 80, weight: 1, uthreshold: upper, lthreshold: lower }]);
        let flag = false;
        for (const e of events) {
          const counter = e.active ? set.activeConns : set.inactiveConns;
          if (e.bind) {
            counter[0]++;
            markOverloadOnBind(set, 0);
          } else {
            if (counter[0] === 0) continue;
            counter[0]--;
            clearOverloadOnUnbind(set, 0);
          }
          flag = oracleOverloadAfter(e.bind ? 'bind' : 'unbind', flag, set.activeConns[0] + set.inactiveConns[0], upper, lower);
          if ((set.overloaded[0] === 1) !== flag) return false;
        }
        return true;
      },
    ),
    { numRuns: 1000 },
  );
});

t.test('uthreshold 4, lthreshold 0: on at 4 connections, off below 3 (3/4 of 4)', async (t) => {
  const set = realServerSetFrom([{ ip: ip(1), port: 80, weight: 1, uthreshold: 4 }, { ip: ip(2), port: 80, weight: 1 }]);
  const rr = createScheduler('rr', {}, set);
  for (let k = 0; k < 4; k++) {
    set.activeConns[0]++;
    markOverloadOnBind(set, 0);
  }
  t.equal(set.overloaded[0], 1);
  t.equal(rr.schedule(set, 0, 0, 0, 0), 1);
  t.equal(rr.schedule(set, 0, 0, 0, 0), 1, 'an overloaded server takes no new connections');
  set.activeConns[0]--;
  clearOverloadOnUnbind(set, 0);
  t.equal(set.overloaded[0], 1, '3 connections: 12 < 12 is false, still overloaded');
  set.activeConns[0]--;
  clearOverloadOnUnbind(set, 0);
  t.equal(set.overloaded[0], 0, '2 connections: cleared');
});

t.test('applyThresholds: raising or removing the upper threshold clears the flag, lowering keeps it', async (t) => {
  const set = realServerSetFrom([{ ip: ip(1), port: 80, weight: 1, uthreshold: 10, overloaded: true }]);
  applyThresholds(set, 0, 5, 0);
  t.equal(set.overloaded[0], 1);
  applyThresholds(set, 0, 8, 0);
  t.equal(set.overloaded[0], 0);
  set.overloaded[0] = 1;
  applyThresholds(set, 0, 0, 0);
  t.equal(set.overloaded[0], 0);
});

t.test('checkThresholds rejects contradictions', async (t) => {
  t.equal(checkThresholds(100, 50), null);
  t.equal(checkThresholds(0, 0), null);
  t.match(checkThresholds(10, 20), /above uthreshold/);
  t.match(checkThresholds(-1, 0), /uthreshold/);
  t.match(checkThresholds(1.5, 0), /integer/);
});
