// DPVS's Full NAT blocks as written in ulvs.yaml: local_address_groups (DPVS keepalived's
// `local_address_group NAME { IP IFACE ... }`), named by a virtual server's laddr_group_name.
import { z } from 'zod';
import { ipv4, name } from './raw-schema-scalars.js';
import { DEFAULT_PORT_MAX, DEFAULT_PORT_MIN } from '../conntrack/local-ports.js';

const port = z.number().int().min(1).max(65535);

export const localAddressSchema = z.strictObject({
  ip: ipv4.describe('a local address: the source the real servers see; ulvs holds it on dev (as static_ipaddress /32)'),
  dev: name.describe('interface it lives on: dataplane.interface or dataplane.inside'),
});

export const localAddressGroupSchema = z.strictObject({
  name: name,
  addresses: z.array(localAddressSchema).default([]).describe('at least one; connections are spread across them'),
  port_min: port.default(DEFAULT_PORT_MIN).describe('ulvs: first source port of each address\'s pool (DPVS: 1024)'),
  port_max: port.default(DEFAULT_PORT_MAX).describe('ulvs: last source port of each address\'s pool'),
});
