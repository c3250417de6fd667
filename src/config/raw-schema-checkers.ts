// The raw (as written) health checkers: tcp_check, http_get, ... as keepalived.conf(5).
import { z } from 'zod';
import { command, count, ipAddress, name, port, seconds } from './raw-schema-scalars.js';

export const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;
export const HTTP_PROTOCOLS = ['1.0', '1.0C', '1.1'] as const;

/** status_code entries: 200, "200-299", or keepalived's space-separated list "200-299 301". */
const STATUS_RANGE = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/;
export interface StatusRange { from: number; to: number }
const statusCode = z.union([z.number().int(), z.string()]).transform((value, ctx) => {
  const ranges: StatusRange[] = [];
  for (const word of String(value).trim().split(/[\s,]+/)) {
    const m = STATUS_RANGE.exec(word);
    const from = m ? Number(m[1]) : NaN;
    const to = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || to < from) {
      ctx.addIssue({ code: 'custom', message: `"${word}" is not an HTTP status code or range (100-599, like 200 or 200-299)` });
      return z.NEVER;
    }
    ranges.push({ from, to });
  }
  return ranges;
});

export const urlSchema = z.strictObject({
  path: z.string().min(1).refine((p) => p.startsWith('/'), { message: 'must start with "/"' }),
  digest: z.string().regex(/^[0-9a-fA-F]{32}$/, { message: 'must be 32 hex characters (an MD5 from ulvs genhash)' })
    .transform((d) => d.toLowerCase()).optional(),
  status_code: z.union([statusCode, z.array(statusCode).transform((l) => l.flat())]).optional()
    .describe('200, "200-299", or a list; default 200-299'),
  regex: z.string().min(1).refine(isValidRegex, { message: 'is not a valid regular expression' }).optional(),
  regex_no_match: z.boolean().default(false),
  regex_min_offset: count.optional().describe('the regex match starts at or after this offset of the response'),
  regex_max_offset: count.optional().describe('the regex match starts at or before this offset'),
  virtualhost: z.string().min(1).optional(),
}).superRefine((u, ctx) => {
  for (const key of ['regex_min_offset', 'regex_max_offset'] as const) {
    if (u[key] !== undefined && u.regex === undefined) {
      ctx.addIssue({ code: 'custom', path: [key], message: `${key} needs a regex in the same url` });
    }
  }
  if (u.regex_min_offset !== undefined && u.regex_max_offset !== undefined && u.regex_min_offset > u.regex_max_offset) {
    ctx.addIssue({ code: 'custom', path: ['regex_min_offset'], message: `regex_min_offset ${u.regex_min_offset} is beyond regex_max_offset ${u.regex_max_offset}` });
  }
});

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** Options keepalived gives every checker (and, as defaults, real and virtual servers). */
const timingKeys = {
  connect_timeout: seconds.optional(),
  retry: count.optional(),
  nb_get_retry: count.optional().describe('old name of retry'),
  delay_before_retry: seconds.optional(),
  warmup: seconds.optional(),
  delay_loop: seconds.optional(),
  alpha: z.boolean().optional(),
  rise: z.number().int().min(1).optional().describe('ulvs: consecutive successes to come up'),
  fall: z.number().int().min(1).optional().describe('ulvs: consecutive failures to go down'),
  log_all_failures: z.boolean().optional(),
};
const connectionKeys = {
  connect_ip: ipAddress.optional().describe('IPv4 or IPv6; default: the real server'),
  connect_port: port.optional(),
  bindto: ipAddress.optional().describe('source address, in connect_ip\'s family'),
  bind_port: port.optional(),
  bind_if: name.optional(),
};

/** YAML reads `http_protocol: 1.0` as the number 1. */
const httpProtocol = z.union([z.enum(HTTP_PROTOCOLS), z.literal([1, 1.1])])
  .transform((v) => (v === 1 ? '1.0' : String(v)) as (typeof HTTP_PROTOCOLS)[number]);

const HEX_STRING = /^[0-9a-fA-FxX\s]*$/;

export const checkerSchemas = {
  tcp_check: z.strictObject({ ...connectionKeys, ...timingKeys }),
  http_get: z.strictObject({
    ...connectionKeys, ...timingKeys,
    url: z.array(urlSchema).min(1),
    http_protocol: httpProtocol.optional(),
    virtualhost: z.string().min(1).optional(),
    fast_recovery: z.boolean().default(false),
  }),
  ssl_get: z.strictObject({
    ...connectionKeys, ...timingKeys,
    url: z.array(urlSchema).min(1),
    http_protocol: httpProtocol.optional(),
    virtualhost: z.string().min(1).optional(),
    fast_recovery: z.boolean().default(false),
    enable_sni: z.boolean().default(false),
  }),
  smtp_check: z.strictObject({ ...connectionKeys, ...timingKeys, helo_name: z.string().min(1).optional() }),
  dns_check: z.strictObject({
    ...connectionKeys, ...timingKeys,
    type: z.enum(DNS_TYPES).default('SOA'),
    name: z.string().min(1).default('.'),
  }),
  udp_check: z.strictObject({
    ...connectionKeys, ...timingKeys,
    payload: z.string().regex(HEX_STRING, { message: 'must be hex digits' }).optional(),
    require_reply: z.union([z.boolean(), z.string().regex(HEX_STRING, { message: 'must be hex digits (x for any)' })]).default(false),
    min_reply_length: count.default(0),
    max_reply_length: count.default(255),
  }),
  ping_check: z.strictObject({ ...connectionKeys, ...timingKeys }),
  misc_check: z.strictObject({
    ...timingKeys,
    misc_path: command.describe('script and arguments; exit 0 up, 1 down'),
    misc_timeout: seconds.optional().describe('default: delay_loop'),
    misc_dynamic: z.boolean().default(false).describe('exit 2-255 sets weight to exit-2'),
    user: name.optional(),
  }),
  file_check: z.strictObject({
    ...timingKeys,
    file: z.string().min(1).optional().describe('file whose number sets the weight'),
    track_file: name.optional().describe('or the name of a track_files entry'),
    weight: z.number().int().default(1),
    reverse: z.boolean().default(false),
    dynamic: z.boolean().default(false),
  }),
} as const;

export type CheckerKind = keyof typeof checkerSchemas;
export const CHECKER_KINDS = Object.keys(checkerSchemas) as CheckerKind[];
