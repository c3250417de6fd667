// Issue 17, NAT on AF_XDP: the XDP program steers ICMP errors and fragments.
import { icmpFragmentsNat } from './icmp-fragments-nat-scenario.js';

icmpFragmentsNat('afxdp', 'k8n-');
