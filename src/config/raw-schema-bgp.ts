/**
 * bgp_announce (ulvs): the VIPs this director announces through a BGP daemon on its host,
 * gated by health as ExaBGP's healthcheck does (src/bgp/README.md). ulvs writes one include
 * file and asks the daemon to re-read its config; the daemon's own config stays the user's.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { name } from './raw-schema-scalars.js';

export const BGP_DAEMONS = ['bird2'] as const;
export const BGP_WHEN_DOWN = ['withdraw', 'med'] as const;

const vipText = z.string().refine((s) => isIP(s) !== 0, { message: 'is not an IP address' });
const med = z.number().int().min(0).max(4294967295);
const protocolName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { message: 'is not a BIRD protocol name (letters, digits, _)' });

export const bgpAnnounceSchema = z.strictObject({
  daemon: z.enum(BGP_DAEMONS).default('bird2').describe('the BGP daemon ulvs drives (bird2: config include + birdc configure)'),
  include_file: z.string().min(1).default('/etc/bird/ulvs-vips.conf')
    .describe('the one file ulvs writes; the daemon config includes it (include "...";). Never the daemon config itself'),
  birdc: name.default('birdc').describe('birdc command (PATH is searched)'),
  bird_socket: z.string().min(1).optional().describe('birdc -s: the daemon control socket; default birdc\'s own (/run/bird/bird.ctl)'),
  protocol: protocolName.default('ulvs_vips').describe('name of the static protocol ulvs writes (IPv6 VIPs: NAME6); export it in your BGP protocols'),
  vips: z.array(vipText).min(1).describe('VIPs to announce (host routes); each must be a VIP of a virtual server here'),
  interval: z.number().min(0.1).max(3600).default(1).describe('seconds between two looks at the health of each VIP'),
  rise: z.number().int().min(1).max(100).default(3).describe('consecutive healthy looks before a VIP is announced'),
  fall: z.number().int().min(1).max(100).default(1).describe('consecutive unhealthy looks before a VIP is withdrawn (or gets down_med)'),
  when_down: z.enum(BGP_WHEN_DOWN).default('withdraw').describe('VIP without a usable real server or director disabled: withdraw the route, or announce it with down_med'),
  med: med.default(0).describe('bgp_med of an announced healthy VIP'),
  down_med: med.default(1000).describe('bgp_med of a VIP that is down or disabled, with when_down: med'),
  disable_file: z.string().min(1).default('/var/lib/ulvs/bgp-disabled')
    .describe('while this file exists the director is disabled (ulvs bgp disable creates it; kept across restarts)'),
  command_timeout: z.number().min(0.1).max(60).default(5).describe('seconds birdc may take'),
});
export type RawBgpAnnounce = z.output<typeof bgpAnnounceSchema>;
