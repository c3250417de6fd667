import t from 'tap';
import { portSuite } from './fixtures/scenarios.js';

t.test('AF_XDP backend', (t) => portSuite(t, 'afxdp', `tio-x${process.pid % 10000}-`));
