/**
 * keepalived's checker blocks inside a real_server, keyword by keyword: TCP_CHECK, HTTP_GET and
 * SSL_GET (with their url blocks), SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, MISC_CHECK,
 * FILE_CHECK. ulvs runs one checker per real server.
 */
import {
  flag, int, keywordTable, line, no, text, timer, translated, user, weightReverse, words,
  type KeywordTable, type Rules,
} from './translator.js';
import { WHY } from './unsupported-keywords.js';
import { REFUSED_KEYS } from '../config/refused-keys.js';

const timingKeys: Rules = {
  connect_timeout: timer(),
  retry: int(undefined, 0),
  nb_get_retry: int(undefined, 0),
  delay_before_retry: timer(),
  warmup: timer(),
  delay_loop: timer(),
  alpha: flag(),
  log_all_failures: flag(),
};
const connectionKeys: Rules = {
  connect_ip: text(),
  connect_port: int(undefined, 1, 65535),
  bindto: text(),
  bind_port: int(undefined, 1, 65535),
  bind_if: no(REFUSED_KEYS['virtual_servers[].real_servers[].*.bind_if']),
  fwmark: no('checks leave from ulvs\'s own sockets; no firewall marks'),
};

export const urlTable = keywordTable('url', {
  path: text(),
  digest: text(),
  status_code: translated((st, out, { t }) => {
    if (t.arg(st) === undefined) return;
    const all = words(st);
    out.set('status_code', /^\d+$/.test(all) ? Number(all) : all, st);
  }),
  virtualhost: text(),
  regex: line(),
  regex_no_match: flag(),
  regex_options: no('ulvs matches with JavaScript regular expressions (no pcre2 options)'),
  regex_stack: no('ulvs matches with JavaScript regular expressions (no pcre2 stack)'),
  regex_min_offset: int(undefined, 0),
  regex_max_offset: int(undefined, 0),
});

const httpRules: Rules = {
  ...connectionKeys,
  ...timingKeys,
  http_protocol: text(),
  fast_recovery: flag(),
  virtualhost: text(),
  url: translated((st, out, cx) => {
    const { t } = cx;
    let seq = cx.urlLists.get(out);
    if (seq === undefined) {
      seq = t.seq();
      cx.urlLists.set(out, seq);
      out.set('url', seq);
    }
    const m = t.map();
    t.walk(t.needBlock(st), urlTable, m, cx);
    seq.push(m.compact(), st);
  }),
};

/** keepalived's checker block -> ulvs's checker key and the block's keywords. */
export const checkerTables: Readonly<Record<string, readonly [string, KeywordTable]>> = {
  TCP_CHECK: ['tcp_check', keywordTable('TCP_CHECK', { ...connectionKeys, ...timingKeys })],
  HTTP_GET: ['http_get', keywordTable('HTTP_GET', httpRules)],
  SSL_GET: ['ssl_get', keywordTable('SSL_GET', { ...httpRules, enable_sni: flag() })],
  SMTP_CHECK: ['smtp_check', keywordTable('SMTP_CHECK', {
    ...connectionKeys, ...timingKeys,
    helo_name: line(),
    host: no('ulvs\'s smtp_check checks one address: use connect_ip/connect_port'),
  })],
  DNS_CHECK: ['dns_check', keywordTable('DNS_CHECK', {
    ...connectionKeys, ...timingKeys,
    type: translated((st, out, { t }) => {
      const a = t.arg(st);
      if (a !== undefined) out.set('type', a.text.toUpperCase(), st);
      t.extra(st, 1);
    }),
    name: text(),
  })],
  UDP_CHECK: ['udp_check', keywordTable('UDP_CHECK', {
    ...connectionKeys, ...timingKeys,
    payload: translated((st, out, { t }) => {
      if (t.arg(st) !== undefined) out.set('payload', words(st), st);
    }),
    require_reply: translated((st, out) => {
      out.set('require_reply', st.args.length === 0 ? true : words(st), st);
    }),
    min_reply_length: int(undefined, 0),
    max_reply_length: int(undefined, 0),
  })],
  PING_CHECK: ['ping_check', keywordTable('PING_CHECK', { ...connectionKeys, ...timingKeys })],
  MISC_CHECK: ['misc_check', keywordTable('MISC_CHECK', {
    ...timingKeys,
    misc_path: line(),
    misc_timeout: timer(),
    misc_dynamic: flag(),
    user: user(),
  })],
  FILE_CHECK: ['file_check', keywordTable('FILE_CHECK', {
    track_file: text(),
    dynamic: flag(),
    weight: weightReverse(2147483647),
  })],
};

const checker = translated((st, out, cx) => {
  const { t } = cx;
  const [key, table] = checkerTables[st.keyword.text];
  const present = Object.values(checkerTables).map(([k]) => k).find((k) => out.has(k));
  if (present !== undefined) {
    t.unsupported(st, `ulvs runs one checker per real server; ${present} is kept`, `a second checker (${st.keyword.text})`);
    return;
  }
  t.extra(st, 0);
  const m = t.map();
  t.walk(t.needBlock(st), table, m, cx);
  out.set(key, key === 'http_get' || key === 'ssl_get' ? m : m.compact(), st);
});

/** The checker blocks a real_server takes (one of them; BFD_CHECK is refused). */
export const checkerRules: Rules = {};
for (const c of Object.keys(checkerTables)) checkerRules[c] = checker;
checkerRules.BFD_CHECK = no(WHY.bfd);
