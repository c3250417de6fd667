// configs/schema.json is what write-schema.ts generates from the zod schema (not hand-edited).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { renderSchemaJson, schemaJsonPath } from '../../src/config/write-schema.js';

t.test('configs/schema.json is up to date', async (t) => {
  t.equal(schemaJsonPath(), `${process.cwd()}/configs/schema.json`);
  const onDisk = readFileSync('configs/schema.json', 'utf8');
  t.ok(onDisk === renderSchemaJson(), 'regenerate with: node dist/src/config/write-schema.js');
});

t.test('the JSON Schema is strict and knows keepalived keywords', async (t) => {
  const schema = JSON.parse(renderSchemaJson());
  t.equal(schema.additionalProperties, false);
  const vs = schema.properties.virtual_servers.items;
  t.equal(vs.additionalProperties, false);
  t.same(vs.properties.lb_algo.enum, ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos']);
  const rs = vs.properties.real_servers.items;
  for (const k of ['tcp_check', 'http_get', 'ssl_get', 'smtp_check', 'dns_check', 'udp_check', 'ping_check', 'misc_check', 'file_check']) {
    t.ok(rs.properties[k], k);
  }
  t.equal(rs.properties.weight.default, 1);
  t.equal(rs.properties.weight.maximum, 65535);
  t.equal(schema.properties.dataplane.properties.conn_table_size.default, 1048576);
});
