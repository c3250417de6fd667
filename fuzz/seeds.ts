/**
 * Seed inputs for each fuzz target, written to test/fuzz/corpus/<target>/ by
 * `node dist/fuzz/run.js --write-seeds`: well-formed inputs from the unit tests' fixtures, so
 * the fuzzer starts past the outer checks instead of rediscovering Ethernet.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PIPELINE_CASES } from '../src/dataplane/fixtures/pipeline-cases.js';
import { encodeAdvertPacket } from '../src/vrrp/codec.js';
import { encodeSyncMessages, type SyncRecord } from '../src/sync/codec.js';

/** One pipeline input (targets/pipeline.ts format) per fixture case: its `before` frames, then its input. */
function pipelineSeeds(): Buffer[] {
  const shapeOf = (d: string): number => (d.startsWith('NAT') ? 1 : d.startsWith('TUN') ? 2 : d.startsWith('persistence') ? 3 : 0);
  return PIPELINE_CASES.map((c) => {
    const parts: number[] = [shapeOf(c.description)];
    for (const f of [...c.before, c.input]) {
      parts.push(f.side === 'inside' ? 1 : 0, 1, f.frame.length >> 8, f.frame.length & 0xff, ...f.frame);
    }
    return Buffer.from(parts);
  });
}

function filesUnder(dir: string, pattern: RegExp): Buffer[] {
  const out: Buffer[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (pattern.test(e.name)) out.push(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

export function seedsFor(target: string): Buffer[] {
  switch (target) {
    case 'pipeline':
    case 'frame-parser':
      // frame-parser input: [fix-checksums flag, offset / 8, frame...].
      return target === 'pipeline' ? pipelineSeeds() : PIPELINE_CASES.map((c, i) => Buffer.from([i & 1, i, ...c.input.frame]));
    case 'vrrp':
      return [
        Buffer.from(encodeAdvertPacket({ version: 2, vrid: 51, priority: 100, intervalCs: 100, authType: 1, authPass: 'secret', addresses: [0xc6120064] }, 0xc6120001, 0xe0000012)),
        Buffer.from(encodeAdvertPacket({ version: 3, vrid: 7, priority: 200, intervalCs: 100, authType: 0, authPass: '', addresses: [0xc6120064, 0xc6120065] }, 0xc6120002, 0xe0000012)),
      ];
    case 'sync': {
      const rec: SyncRecord = { family: 4, proto: 6, state: 1, flags: 0, clientIp: 0xc6120001, clientPort: 40000, vip: 0xc6120064, vport: 80, rsIp: 0xc612000a, rsPort: 80, timeout: 900, fwmark: 0 };
      // sync input: [signed flag, datagram...]; the signed one uses the target's key.
      return [...encodeSyncMessages([rec], { syncId: 1 }).map((m) => Buffer.concat([Buffer.from([0]), m])),
        ...encodeSyncMessages([{ ...rec, seq: { in: { initSeq: 1, delta: 2, previousDelta: 3 }, out: { initSeq: 4, delta: 5, previousDelta: 6 } } }], { syncId: 1, key: 'fuzz-key' })
          .map((m) => Buffer.concat([Buffer.from([1]), m]))];
    }
    case 'config': return filesUnder('configs', /\.ya?ml$/).concat(filesUnder('test/config/fixtures', /\.ya?ml$/)).slice(0, 60);
    case 'keepalived': return filesUnder('test/migrate', /\.conf$/).slice(0, 40);
    case 'ldirectord': return filesUnder('test/migrate', /\.cf$/).slice(0, 20);
    case 'ipvsadm': return ['-A -t 198.18.0.100:80 -s rr', '-a -t 198.18.0.100:80 -r 198.18.0.10:80 -g -w 2', '-Ln --stats', '-E -u 198.18.0.100:53 -s wlc -p 300', '-D -f 12', '--set 900 120 300'].map((s) => Buffer.from(s.split(' ').join('\0')));
    case 'control': return ['{"command":"status"}\n', '{"command":"reload","args":{}}\n', 'nope\n', '{"command":1}\n'].map((s) => Buffer.from(s));
    default: return [];
  }
}
