// Issue 17, DR on AF_XDP: the XDP program steers ICMP errors and fragments.
import { icmpFragmentsDr } from './icmp-fragments-dr-scenario.js';

icmpFragmentsDr('afxdp', 'k8d-');
