'use strict';
// (i) bad requests get Docker's error shape ({"message": ...}) and the
// right status, never a hang: malformed JSON, an unknown image, exec on a
// stopped container, a bad tar, paths escaping the container (checked on
// the host: nothing may appear there), a huge body, unknown routes.
const L = require('./lib');
const fs = require('fs');
const crypto = require('crypto');
const tar = require('tar-stream');

const JSONH = { 'Content-Type': 'application/json' };

function tarOf(entries) {
	return new Promise((resolve, reject) => {
		const pack = tar.pack();
		const chunks = [];
		pack.on('data', (d) => chunks.push(d));
		pack.on('end', () => resolve(Buffer.concat(chunks)));
		pack.on('error', reject);
		for (const e of entries) pack.entry({ name: e.name, type: e.type || 'file', linkname: e.linkname, mode: 0o644 }, e.data);
		pack.finalize();
	});
}

// checkErr(WHAT, RES, STATUS...): RES has one of STATUS and {"message"}.
function checkErr(what, res, statuses, dockerd) {
	if (L.PEER === 'dockerd' && dockerd && dockerd.some((s) => L.isDockerError(res, s))) {
		L.note(`${what}: dockerd answers ${L.showRes(res)}; sbx must answer ${statuses.join(' or ')}`);
		return;
	}
	L.check(`${what} -> ${statuses.join(' or ')} {"message"}`, statuses.some((s) => L.isDockerError(res, s)), `got ${L.showRes(res)}`);
}

L.main('errors', async () => {
	let r = await L.raw({ method: 'GET', path: '/_ping' });
	L.check('GET /_ping -> 200 OK', r.status === 200 && r.body.toString() === 'OK', L.showRes(r));
	r = await L.raw({ method: 'HEAD', path: '/_ping' });
	L.check('HEAD /_ping -> 200', r.status === 200, L.showRes(r));
	r = await L.raw({ method: 'GET', path: '/v1.41/version' });
	L.check('GET /v1.41/version: ApiVersion, Version, Os', r.status === 200 && r.json && r.json.ApiVersion && r.json.Version && r.json.Os === 'linux', L.showRes(r));
	r = await L.raw({ method: 'GET', path: '/info' });
	L.check('GET /info -> 200 JSON', r.status === 200 && r.json && typeof r.json === 'object', L.showRes(r));

	r = await L.raw({ method: 'POST', path: '/containers/create', headers: JSONH, body: '{"Image": "' + L.IMAGE + '", "Cmd": ["true"' });
	checkErr('create with malformed JSON', r, [400], [500]);
	r = await L.raw({ method: 'POST', path: '/containers/create', headers: JSONH, body: '{"Image": 5}' });
	checkErr('create with Image a number', r, [400], [500]);
	r = await L.raw({ method: 'POST', path: '/containers/create', headers: JSONH, body: '[1,2]' });
	checkErr('create with a JSON array', r, [400], [500]);
	r = await L.raw({ method: 'POST', path: '/containers/create', headers: JSONH, body: '{"Image":"sbxtest-no-such-image:latest","Cmd":["true"]}' });
	checkErr('create with an unknown image', r, [404]);
	r = await L.raw({ method: 'POST', path: '/containers/create?name=bad/name', headers: JSONH, body: JSON.stringify({ Image: L.IMAGE, Cmd: ['true'] }) });
	checkErr('create with an invalid name', r, [400]);
	// unknown fields: Docker ignores them; either that or a clean 400
	r = await L.raw({ method: 'POST', path: `/containers/create?name=sbxtest-unknown-${L.RUN}`, headers: JSONH, body: JSON.stringify({ Image: L.IMAGE, Cmd: ['true'], Labels: L.labels(), NoSuchField: { a: 1 } }) });
	L.check('create with an unknown field -> 201 (ignored, as Docker) or 400 {"message"}', r.status === 201 || L.isDockerError(r, 400), L.showRes(r));
	if (r.status !== 201) L.note(`unknown field refused: ${L.short(r.json.message)}`);

	r = await L.raw({ method: 'GET', path: '/containers/sbxtest-no-such-container/json' });
	checkErr('inspect an unknown container', r, [404]);
	r = await L.raw({ method: 'GET', path: '/no/such/route' });
	checkErr('an unknown route', r, [404]);
	r = await L.raw({ method: 'POST', path: '/v9.99/containers/create', headers: JSONH, body: '{}' });
	checkErr('API version 9.99 (too new)', r, [400]);
	r = await L.raw({ method: 'GET', path: '/containers/json?filters=%7Bnot-json' });
	checkErr('list with malformed filters', r, [400], [500]);

	// exec on a created (never started) and on an exited container
	const c = await L.create({ Cmd: ['sh', '-c', 'exit 0'] });
	r = await L.raw({ method: 'POST', path: `/containers/${c.id}/exec`, headers: JSONH, body: JSON.stringify({ Cmd: ['true'], AttachStdout: true }) });
	checkErr('exec on a created, not started container', r, [409]);
	await L.t(c.start(), 'start');
	await L.t(c.wait({ condition: 'not-running' }), 'wait');
	r = await L.raw({ method: 'POST', path: `/containers/${c.id}/exec`, headers: JSONH, body: JSON.stringify({ Cmd: ['true'], AttachStdout: true }) });
	checkErr('exec on a stopped container', r, [409]);
	r = await L.raw({ method: 'POST', path: `/containers/${c.id}/exec`, headers: JSONH, body: '{"Cmd": ' });
	checkErr('exec create with malformed JSON', r, [400]);

	// archives: a bad tar, and paths that try to leave the container
	const s = await L.create({ Cmd: ['sleep', 'infinity'] });
	await L.t(s.start(), 'start');
	r = await L.raw({ method: 'PUT', path: `/containers/${s.id}/archive?path=/tmp`, headers: { 'Content-Type': 'application/x-tar' }, body: crypto.randomBytes(4096) });
	checkErr('putArchive of random bytes (not a tar)', r, [400], [500]);
	const good = await tarOf([{ name: 'f', data: Buffer.from('x') }]);
	const big = await tarOf([{ name: 'g', data: crypto.randomBytes(8192) }]);
	r = await L.raw({ method: 'PUT', path: `/containers/${s.id}/archive?path=/tmp`, headers: { 'Content-Type': 'application/x-tar' }, body: big.slice(0, 512 + 3000) });
	checkErr('putArchive of a tar cut in the middle of a file', r, [400], [500]);
	r = await L.raw({ method: 'PUT', path: `/containers/${s.id}/archive`, headers: { 'Content-Type': 'application/x-tar' }, body: good });
	checkErr('putArchive without path', r, [400]);

	const mark = `sbxtest-escape-${L.RUN}`;
	const hostPaths = [`/etc/${mark}`, `/tmp/${mark}`, `/${mark}`, `/root/${mark}`, `/var/tmp/${mark}`];
	const put = async (what, path, entries) => {
		const body = await tarOf(entries);
		const res = await L.raw({ method: 'PUT', path: `/containers/${s.id}/archive?path=${encodeURIComponent(path)}`, headers: { 'Content-Type': 'application/x-tar' }, body });
		L.check(`${what}: answered (${res.status})`, res.status === 200 || L.isDockerError(res, res.status), L.showRes(res));
		const leaked = hostPaths.filter((p) => fs.existsSync(p));
		for (const p of leaked) fs.rmSync(p, { recursive: true, force: true });
		L.check(`${what}: nothing written on the host`, leaked.length === 0, `appeared on the host: ${leaked.join(' ')}`);
		return res;
	};
	await put('putArchive path ../../../etc', '../../../etc', [{ name: mark, data: Buffer.from('x') }]);
	await put('putArchive path /../../tmp', '/../../tmp', [{ name: mark, data: Buffer.from('x') }]);
	await put('tar entry named ../../../../tmp/NAME', '/tmp', [{ name: `../../../../tmp/${mark}`, data: Buffer.from('x') }]);
	await put('tar entry with an absolute name /etc/NAME', '/', [{ name: `/etc/${mark}`, data: Buffer.from('x') }]);
	await put('tar symlink to / then a file through it', '/tmp', [
		{ name: 'link', type: 'symlink', linkname: '/' },
		{ name: `link/etc/${mark}`, data: Buffer.from('x') },
	]);
	await put('tar symlink ../../../.. then a file through it', '/tmp', [
		{ name: 'up', type: 'symlink', linkname: '../../../../../..' },
		{ name: `up/var/tmp/${mark}`, data: Buffer.from('x') },
	]);
	// a symlink made inside, then the archive path through it
	let x = await L.execRun(s, ['sh', '-c', 'ln -sfn / /tmp/rootlink && ln -sfn ../../../../.. /tmp/uplink']);
	L.check('symlinks made inside', x.code === 0, L.short(x));
	await put('putArchive path through a symlink to /', '/tmp/rootlink/etc', [{ name: mark, data: Buffer.from('x') }]);
	await put('putArchive path through a symlink ../..', '/tmp/uplink/root', [{ name: mark, data: Buffer.from('x') }]);
	// reading: a symlink to / does not give the host's files
	const hostOnly = `/tmp/${mark}-hostonly`;
	fs.writeFileSync(hostOnly, 'host secret');
	try {
		r = await L.raw({ method: 'GET', path: `/containers/${s.id}/archive?path=${encodeURIComponent('/tmp/rootlink' + hostOnly)}` });
		L.check('getArchive through a symlink to /: not the host\'s file', r.status === 404 || (r.status === 200 && !r.body.includes('host secret')), L.showRes(r));
		r = await L.raw({ method: 'GET', path: `/containers/${s.id}/archive?path=${encodeURIComponent('../../../..' + hostOnly)}` });
		L.check('getArchive of ../../../..: not the host\'s file', r.status === 404 || (r.status === 200 && !r.body.includes('host secret')), L.showRes(r));
	} finally {
		fs.rmSync(hostOnly, { force: true });
	}

	// a huge body: answered (413 or 400), or the connection closed, in bounded time
	const HUGE = 100 * 1024 * 1024;
	const t0 = Date.now();
	let huge;
	try {
		huge = await L.raw({
			method: 'POST',
			path: `/containers/create?name=sbxtest-huge-${L.RUN}`,
			headers: Object.assign({ 'Content-Length': HUGE }, JSONH),
			ms: 120000,
			body: (req) => {
				const head = Buffer.from(`{"Image":"${L.IMAGE}","Cmd":["true"],"Labels":{"sbx.test.run":"${L.RUN}","big":"`);
				const tail = Buffer.from('"}}');
				const chunk = Buffer.alloc(1024 * 1024, 'a');
				let sent = 0;
				req.on('error', () => {});
				const write = () => {
					while (sent < HUGE) {
						let b = sent === 0 ? Buffer.concat([head, chunk.slice(head.length)]) : chunk;
						if (sent + b.length > HUGE - tail.length) b = Buffer.concat([b.slice(0, HUGE - tail.length - sent), tail]);
						sent += b.length;
						if (!req.write(b)) return req.once('drain', write);
					}
					req.end();
				};
				write();
			},
		});
	} catch (e) {
		if (e instanceof L.CheckError) throw e;
		huge = { err: e };
	}
	const dt = Date.now() - t0;
	if (huge.err) {
		L.check(`100 MB create body: the connection was closed (${huge.err.code || huge.err.message}) after ${dt} ms`, ['EPIPE', 'ECONNRESET'].includes(huge.err.code), L.errMsg(huge.err));
	} else if (huge.status === 201) {
		(L.PEER === 'dockerd' ? L.note : L.fail)(`100 MB create body: accepted (201) after ${dt} ms; sbx must answer 413 or 400`);
	} else {
		checkErr(`100 MB create body (${dt} ms)`, huge, [413, 400]);
	}
	// and the server still answers
	r = await L.raw({ method: 'GET', path: '/_ping' });
	L.check('still answering after the bad requests', r.status === 200, L.showRes(r));
});
