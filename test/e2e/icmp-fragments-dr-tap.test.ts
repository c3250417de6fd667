// Issue 17, DR on TAP: tc u32 filters steer ICMP errors and fragments into the tap (src/io/tc.ts).
import { icmpFragmentsDr } from './icmp-fragments-dr-scenario.js';

icmpFragmentsDr('tap', 'tuc-');
