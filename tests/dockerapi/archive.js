'use strict';
// (d) archives: putArchive / getArchive round trip of a binary file (sha256
// compared, also from inside), a directory, modes, infoArchive (HEAD and
// X-Docker-Container-Path-Stat), and the 404s.
const L = require('./lib');
const crypto = require('crypto');
const tar = require('tar-stream');

// tarOf([{name, data | type, mode}]) -> Buffer
function tarOf(entries) {
	return new Promise((resolve, reject) => {
		const pack = tar.pack();
		const chunks = [];
		pack.on('data', (d) => chunks.push(d));
		pack.on('end', () => resolve(Buffer.concat(chunks)));
		pack.on('error', reject);
		for (const e of entries) {
			const h = { name: e.name, mode: e.mode || (e.type === 'directory' ? 0o755 : 0o644), mtime: new Date(1700000000000), type: e.type || 'file' };
			if (e.linkname) h.linkname = e.linkname;
			pack.entry(h, e.data);
		}
		pack.finalize();
	});
}

// untar(STREAM) -> [{name, type, mode, size, data}]
function untar(stream, what) {
	return L.withTimeout(
		new Promise((resolve, reject) => {
			const ex = tar.extract();
			const out = [];
			ex.on('entry', (h, s, next) => {
				const chunks = [];
				s.on('data', (d) => chunks.push(d));
				s.on('end', () => {
					out.push({ name: h.name, type: h.type, mode: h.mode, size: h.size, linkname: h.linkname, data: Buffer.concat(chunks) });
					next();
				});
				s.on('error', reject);
			});
			ex.on('finish', () => resolve(out));
			ex.on('error', reject);
			stream.on('error', reject);
			stream.pipe(ex);
		}),
		L.T_REQ,
		what
	);
}

function pathStat(res) {
	const h = res.headers['x-docker-container-path-stat'];
	if (!h) return null;
	try {
		return JSON.parse(Buffer.from(h, 'base64').toString('utf8'));
	} catch (_) {
		return { unparsable: h };
	}
}

L.main('archive', async () => {
	const c = await L.create({ Cmd: ['sleep', 'infinity'] });
	await L.t(c.start(), 'start');

	// an odd size, every byte value
	const blob = crypto.randomBytes(3 * 1024 * 1024 + 17);
	const sum = L.sha256(blob);
	const t1 = await tarOf([
		{ name: 'blob.bin', data: blob },
		{ name: 'dir', type: 'directory' },
		{ name: 'dir/run.sh', data: Buffer.from('#!/bin/sh\necho ran\n'), mode: 0o755 },
		{ name: 'dir/empty', data: Buffer.alloc(0) },
	]);
	await L.t(c.putArchive(t1, { path: '/tmp' }), 'putArchive to /tmp');
	L.ok('putArchive of a 3 MiB random file, a dir, an executable');

	let r = await L.execRun(c, ['sh', '-c', 'sha256sum /tmp/blob.bin | cut -d" " -f1; stat -c %a /tmp/dir/run.sh; /tmp/dir/run.sh; stat -c %s /tmp/dir/empty']);
	L.check('inside: sha256, mode 755, runs, empty file', r.stdout.toString() === `${sum}\n755\nran\n0\n` && r.code === 0, `got ${L.short(r.stdout)} ${L.short(r.stderr)}`);

	const s = await L.t(c.getArchive({ path: '/tmp/blob.bin' }), 'getArchive /tmp/blob.bin');
	let ents = await untar(s, 'reading the archive of /tmp/blob.bin');
	L.check('getArchive of a file: one entry named blob.bin', ents.length === 1 && ents[0].name === 'blob.bin' && ents[0].type === 'file', L.short(ents.map((e) => e.name + ':' + e.type)));
	L.check('getArchive round trip: sha256 equal', L.sha256(ents[0].data) === sum, `got ${ents[0].data.length} bytes, sha256 ${L.sha256(ents[0].data)}`);

	const sd = await L.t(c.getArchive({ path: '/tmp/dir' }), 'getArchive /tmp/dir');
	ents = await untar(sd, 'reading the archive of /tmp/dir');
	const names = ents.map((e) => e.name.replace(/\/$/, '')).sort();
	L.check('getArchive of a dir: dir, dir/empty, dir/run.sh', JSON.stringify(names) === JSON.stringify(['dir', 'dir/empty', 'dir/run.sh']), L.short(names));
	const rs = ents.find((e) => e.name === 'dir/run.sh');
	L.check('getArchive of a dir: run.sh mode 755 and content', rs && (rs.mode & 0o777) === 0o755 && rs.data.toString() === '#!/bin/sh\necho ran\n', rs && `mode ${rs.mode.toString(8)}`);

	// the write goes to a new file under a path given with a trailing name
	const t2 = await tarOf([{ name: 'renamed.txt', data: Buffer.from('hello\n') }]);
	await L.t(c.putArchive(t2, { path: '/tmp/dir' }), 'putArchive to /tmp/dir');
	r = await L.execRun(c, ['cat', '/tmp/dir/renamed.txt']);
	L.check('putArchive into a subdirectory', r.stdout.toString() === 'hello\n', L.short(r.stdout));

	// overwrite keeps one file with the new content
	const t3 = await tarOf([{ name: 'blob.bin', data: Buffer.from('small') }]);
	await L.t(c.putArchive(t3, { path: '/tmp' }), 'putArchive overwrite');
	r = await L.execRun(c, ['cat', '/tmp/blob.bin']);
	L.check('putArchive overwrites an existing file', r.stdout.toString() === 'small', L.short(r.stdout));

	// HEAD: stat in X-Docker-Container-Path-Stat
	const h = await L.t(c.infoArchive({ path: '/tmp/dir/run.sh' }), 'infoArchive /tmp/dir/run.sh');
	h.resume();
	const st = pathStat(h);
	L.check('infoArchive: X-Docker-Container-Path-Stat name, size, mode', st && st.name === 'run.sh' && st.size === 19 && (st.mode & 0o777) === 0o755 && typeof st.mtime === 'string', L.short(st));
	const hd = await L.t(c.infoArchive({ path: '/tmp/dir' }), 'infoArchive /tmp/dir');
	hd.resume();
	const sd2 = pathStat(hd);
	// Go's os.ModeDir is bit 31
	L.check('infoArchive of a dir: the directory bit (1<<31) is set', sd2 && sd2.name === 'dir' && (sd2.mode >>> 31) === 1, L.short(sd2));

	await L.expectError(c.getArchive({ path: '/tmp/no-such-file' }), 404, 'getArchive of a missing path');
	await L.expectError(c.infoArchive({ path: '/tmp/no-such-file' }), 404, 'infoArchive of a missing path');
	await L.expectError(c.putArchive(t2, { path: '/tmp/no-such-dir' }), 404, 'putArchive to a missing directory');
	await L.expectError(L.docker.getContainer('sbxtest-no-such-container').getArchive({ path: '/' }), 404, 'getArchive of an unknown container');

	// archives work on a stopped container too (Docker: yes)
	await L.t(c.kill(), 'kill');
	await L.t(c.wait(), 'wait');
	const s3 = await L.t(c.getArchive({ path: '/tmp/dir/renamed.txt' }), 'getArchive on the stopped container');
	ents = await untar(s3, 'reading the archive from the stopped container');
	L.check('getArchive on a stopped container', ents.length === 1 && ents[0].data.toString() === 'hello\n', L.short(ents.map((e) => e.name)));
});
