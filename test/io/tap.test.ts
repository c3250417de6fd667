import t from 'tap';
import { portSuite } from './fixtures/scenarios.js';

t.test('TAP backend', (t) => portSuite(t, 'tap', `tio-t${process.pid % 10000}-`));
