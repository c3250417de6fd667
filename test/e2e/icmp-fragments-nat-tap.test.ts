// Issue 17, NAT on TAP: tc u32 filters steer ICMP errors and fragments into the tap (src/io/tc.ts).
import { icmpFragmentsNat } from './icmp-fragments-nat-scenario.js';

icmpFragmentsNat('tap', 'tuf-');
