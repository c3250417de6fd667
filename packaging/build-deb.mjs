// `npm run package`, step 2: build/package/ulvs_<version>_amd64.deb from the executable,
// the units, the sample config, the man page (from the CLI's help) and the JSON Schema.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

const MAINTAINER = 'ulvs maintainers <ulvs@example.org>';

/** Packages of the shared libraries the addon and node link (ldd of build/package/ulvs and the addon). */
const LIBRARY_PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1', 'libxdp1', 'libbpf1', 'libelf1', 'zlib1g'];
/** Commands ulvs runs: ip and tc (iproute2); adduser for the maintainer script. */
const COMMAND_PACKAGES = ['iproute2', 'adduser'];

function installedVersion(pkg) {
  const v = execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim();
  // The upstream part (no epoch's surprise, no Debian revision): ">= what we built against".
  return v.replace(/-[^-]*$/, '');
}

function put(root, path, content, mode = 0o644) {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, content);
  chmodSync(file, mode);
}

function manPage(repo, version, date) {
  const script = `import { cliProgram } from './dist/src/cli/main.js';
import { renderManPage } from './dist/src/appliance/man-page.js';
process.stdout.write(renderManPage(await cliProgram(), ${JSON.stringify(version)}, ${JSON.stringify(date)}));`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8' });
}

const POSTINST = `#!/bin/sh
# The service runs as the system user ulvs; it is not enabled or started here.
set -e
if [ "$1" = configure ]; then
  adduser --system --group --quiet --no-create-home --home /nonexistent ulvs
fi
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
`;
const PRERM = `#!/bin/sh
# Stop the director before its executable goes (on removal; an upgrade leaves it running).
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ] && command -v deb-systemd-invoke >/dev/null; then
  deb-systemd-invoke stop ulvs.service >/dev/null 2>&1 || true
fi
`;
const POSTRM = `#!/bin/sh
# purge: the extracted addon cache goes; the ulvs system user stays (Debian policy: it may own files).
set -e
if [ "$1" = purge ]; then
  rm -rf /var/cache/ulvs
fi
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
`;

export async function buildDebianPackage(repo, out, exe) {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const version = pkg.version;
  const date = new Date().toISOString().slice(0, 10);
  const root = join(out, 'deb-root');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { mode: 0o755 });

  mkdirSync(join(root, 'usr/sbin'), { recursive: true });
  copyFileSync(exe, join(root, 'usr/sbin/ulvs'));
  chmodSync(join(root, 'usr/sbin/ulvs'), 0o755);
  // Not /usr/sbin/ipvsadm: the user may have the real one. PATH=/usr/lib/ulvs:$PATH to use ours.
  mkdirSync(join(root, 'usr/lib/ulvs'), { recursive: true });
  symlinkSync('../../sbin/ulvs', join(root, 'usr/lib/ulvs/ipvsadm'));
  put(root, 'etc/ulvs/ulvs.yaml', readFileSync(join(repo, 'packaging/ulvs.yaml')));
  put(root, 'lib/systemd/system/ulvs.service', readFileSync(join(repo, 'packaging/ulvs.service')));
  put(root, 'lib/systemd/system/ulvs-realserver@.service', readFileSync(join(repo, 'packaging/ulvs-realserver@.service')));
  put(root, 'usr/share/ulvs/ulvs.schema.json', readFileSync(join(repo, 'configs/schema.json')));
  put(root, 'usr/share/man/man8/ulvs.8.gz', gzipSync(manPage(repo, version, date), { level: 9 }));
  put(root, 'usr/share/doc/ulvs/copyright', `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ulvs

Files: *
Copyright: 2026 ulvs authors
License: ${pkg.license}
 Permission is hereby granted, free of charge, to any person obtaining a copy of this software
 and associated documentation files, to deal in the Software without restriction. See
 https://opensource.org/licenses/MIT for the full text.
 .
 The executable embeds Node.js (MIT) and its bundled libraries (see https://github.com/nodejs/node/blob/main/LICENSE).
`);
  put(root, 'usr/share/doc/ulvs/changelog.gz', gzipSync(`ulvs (${version}) unstable; urgency=medium

  * Built from the ulvs checkout (npm run package).

 -- ${MAINTAINER}  ${new Date().toUTCString().replace('GMT', '+0000')}
`, { level: 9 }));

  const depends = [...LIBRARY_PACKAGES, ...COMMAND_PACKAGES].map((p) => `${p} (>= ${installedVersion(p)})`).join(', ');
  const installedKb = Number(execFileSync('du', ['-sk', '--apparent-size', root], { encoding: 'utf8' }).split('\t')[0]);
  put(root, 'DEBIAN/control', `Package: ulvs
Version: ${version}
Architecture: amd64
Maintainer: ${MAINTAINER}
Installed-Size: ${installedKb}
Depends: ${depends}
Section: net
Priority: optional
Homepage: https://github.com/ulvs/ulvs
Description: userspace layer-4 load balancer (LVS/IPVS + keepalived in one process)
 ulvs takes a director's virtual services' packets with AF_XDP (TAP fallback),
 schedules and forwards them (DR, NAT, TUN), speaks VRRP and runs keepalived's
 health checks, configured in YAML with keepalived's vocabulary. One executable
 (Node.js embedded), a hardened systemd unit running as the user ulvs with five
 capabilities, and ulvs-realserver@.service for DR real servers.
`);
  // The two tags left are Node's, not ours: its official binary embeds zlib and is not PIE.
  put(root, 'usr/share/lintian/overrides/ulvs', `# Node.js (embedded: a single executable application) carries its own zlib.
ulvs: embedded-library zlib [usr/sbin/ulvs]
# Node.js's release binary is linked without -pie; ulvs injects into it, it does not relink it.
ulvs: hardening-no-pie [usr/sbin/ulvs]
`);
  put(root, 'DEBIAN/conffiles', '/etc/ulvs/ulvs.yaml\n');
  put(root, 'DEBIAN/postinst', POSTINST, 0o755);
  put(root, 'DEBIAN/prerm', PRERM, 0o755);
  put(root, 'DEBIAN/postrm', POSTRM, 0o755);

  const deb = join(out, `ulvs_${version}_amd64.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', root, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  return deb;
}
