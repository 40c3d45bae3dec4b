'use strict';
// Published ports (HostConfig.PortBindings) and the egress default network,
// through dockerode. The server runs with `sbx serve --net egress`.
//
// A container with a port binding on 127.0.0.1 runs a Python HTTP server
// that answers with a token of its own; the host fetches the token through
// the published port; inspect and list show the binding as Docker does;
// a second binding of the same host port fails; bad bindings are refused
// (400); after `rm -f` the host port is free at once. Only 127.0.0.1 is
// ever connected to. The host ports are picked free here (bound on port 0,
// then closed).
const L = require('./lib.js');
const net = require('net');
const http = require('http');
const crypto = require('crypto');

// A Python HTTP server on 0.0.0.0:8000 inside answering TOKEN to any GET.
const SERVER = [
	'import http.server, sys',
	'tok = sys.argv[1].encode()',
	'class H(http.server.BaseHTTPRequestHandler):',
	'    def do_GET(self):',
	'        self.send_response(200)',
	"        self.send_header('Content-Length', str(len(tok)))",
	'        self.end_headers()',
	'        self.wfile.write(tok)',
	'    def log_message(self, *a):',
	'        pass',
	"http.server.HTTPServer(('0.0.0.0', 8000), H).serve_forever()",
].join('\n');

// freePort(): a TCP port of 127.0.0.1 free right now.
function freePort() {
	return L.t(
		new Promise((resolve, reject) => {
			const s = net.createServer();
			s.on('error', reject);
			s.listen(0, '127.0.0.1', () => {
				const p = s.address().port;
				s.close(() => resolve(p));
			});
		}),
		'picking a free port'
	);
}

// canBind(PORT): the host can listen on 127.0.0.1:PORT (nobody holds it).
function canBind(port) {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.on('error', () => resolve(false));
		s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
	});
}

// get(PORT): one GET of http://127.0.0.1:PORT/ (3 s): {status, body} or {error}.
function get(port) {
	return new Promise((resolve) => {
		const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 3000 }, (res) => {
			const chunks = [];
			res.on('data', (d) => chunks.push(d));
			res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
			res.on('error', (e) => resolve({ error: e.code || e.message }));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', (e) => resolve({ error: e.code || e.message }));
	});
}

// fetchToken(PORT, WHAT): GET until it answers 200 (the server inside may
// still be starting; 30 s at most). Against the private dockerd (no
// bridge: nothing is published) null after 5 s, with a note.
async function fetchToken(port, what) {
	const end = Date.now() + (L.PEER === 'dockerd' ? 5000 : 30000);
	let r;
	for (;;) {
		r = await get(port);
		if (r.status === 200 || Date.now() > end) break;
		await L.sleep(100);
	}
	if (r.status === 200) return r.body;
	if (L.PEER === 'dockerd') {
		L.note(`${what}: no answer on 127.0.0.1:${port} (${r.error || r.status}): this dockerd has no bridge`);
		return null;
	}
	L.fail(what, `no answer on 127.0.0.1:${port} within 30 s: ${r.error || r.status}`);
}

async function webContainer(ports, token, extra) {
	const o = Object.assign(
		{
			Cmd: ['python3', '-c', SERVER, token],
			ExposedPorts: { '8000/tcp': {} },
			HostConfig: { PortBindings: ports },
		},
		extra || {}
	);
	return L.create(o, `create with PortBindings ${JSON.stringify(ports)}`);
}

L.main('ports', async () => {
	const hp = await freePort();
	const token = 'tok-' + crypto.randomBytes(8).toString('hex');
	const binding = { '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hp) }] };
	const c = await webContainer(binding, token);
	let info = await L.t(c.inspect(), 'inspect');
	L.check('inspect: HostConfig.PortBindings as given', JSON.stringify(info.HostConfig.PortBindings) === JSON.stringify(binding), () => L.short(info.HostConfig.PortBindings));
	await L.t(c.start(), 'start');
	const body = await fetchToken(hp, 'the published port');
	const bridge = body !== null;
	if (bridge) L.check(`GET http://127.0.0.1:${hp}/ reaches the server inside`, body === token, () => `got ${L.short(body)}`);

	info = await L.t(c.inspect(), 'inspect');
	const want = [{ HostIp: '127.0.0.1', HostPort: String(hp) }];
	const shown = (info.NetworkSettings.Ports || {})['8000/tcp'];
	if (bridge || JSON.stringify(shown) === JSON.stringify(want))
		L.check('inspect: NetworkSettings.Ports', JSON.stringify(shown) === JSON.stringify(want), () => L.short(info.NetworkSettings.Ports));
	else L.note(`inspect: NetworkSettings.Ports without a bridge: ${L.short(info.NetworkSettings.Ports)}`);
	const list = await L.t(L.docker.listContainers({ all: true, filters: { id: [c.id] } }), 'list');
	const lp = list.length === 1 ? list[0].Ports : undefined;
	const listed = Array.isArray(lp) && lp.some((p) => p.IP === '127.0.0.1' && p.PrivatePort === 8000 && p.PublicPort === hp && p.Type === 'tcp');
	if (bridge || listed) L.check('list: Ports', listed, () => L.short(list));
	else L.note(`list: Ports without a bridge: ${L.short(lp)}`);

	// The same host port again: refused (sbx: at create, Docker: at start).
	let second;
	if (!bridge) L.note('a second binding of the same host port: not tried (nothing is published here)');
	else try {
		second = await webContainer(binding, token + 'x');
	} catch (e) {
		if (e instanceof L.CheckError) throw e;
		L.check('a second binding of the same host port fails at create', e.statusCode >= 400, () => L.errMsg(e));
	}
	if (second) {
		await L.expectError(second.start(), 500, 'start of a second binding of the same host port');
		await L.t(second.remove({ force: true }), 'remove the second');
	}
	if (bridge) L.check('the first container still answers', (await fetchToken(hp, 'after the conflict')) === token);

	// HostIp "": sbx publishes on 127.0.0.1 (Docker: every address).
	const hp2 = await freePort();
	const tok2 = token + '-2';
	const c2 = await webContainer({ '8000': [{ HostIp: '', HostPort: String(hp2) }] }, tok2);
	await L.t(c2.start(), 'start (HostIp "")');
	if (bridge) L.check(`HostIp "": 127.0.0.1:${hp2} reaches the server`, (await fetchToken(hp2, 'HostIp ""')) === tok2);
	info = await L.t(c2.inspect(), 'inspect (HostIp "")');
	const b2 = (info.NetworkSettings.Ports['8000/tcp'] || [])[0] || {};
	if (b2.HostIp === '127.0.0.1' && b2.HostPort === String(hp2)) L.ok('HostIp "": published on 127.0.0.1');
	else if (L.PEER === 'dockerd') L.note(`HostIp "": Docker publishes on ${L.short(info.NetworkSettings.Ports)}`);
	else L.fail('HostIp "": published on 127.0.0.1', L.short(info.NetworkSettings.Ports));

	// HostPort "": a random free port, shown by inspect (HostConfig keeps "").
	const tok3 = token + '-3';
	const c3 = await webContainer({ '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, tok3);
	await L.t(c3.start(), 'start (HostPort "")');
	info = await L.t(c3.inspect(), 'inspect (HostPort "")');
	L.check('HostPort "": HostConfig.PortBindings keeps ""', info.HostConfig.PortBindings['8000/tcp'][0].HostPort === '', () => L.short(info.HostConfig.PortBindings));
	const b3 = ((info.NetworkSettings.Ports || {})['8000/tcp'] || [])[0] || {};
	const hp3 = parseInt(b3.HostPort, 10);
	if (hp3 > 0 && hp3 < 65536 && String(hp3) === b3.HostPort) {
		L.ok(`HostPort "": published on ${b3.HostIp}:${hp3}`);
		if (bridge) L.check(`HostPort "": 127.0.0.1:${hp3} reaches the server`, (await fetchToken(hp3, 'HostPort ""')) === tok3);
	} else if (L.PEER === 'dockerd') L.note(`HostPort "": Docker shows ${L.short(info.NetworkSettings.Ports)}`);
	else L.fail('HostPort "": a port in NetworkSettings.Ports', L.short(info.NetworkSettings.Ports));
	await L.t(c3.remove({ force: true }), 'rm -f (HostPort "")');
	if (hp3 > 0) L.check(`after rm -f, 127.0.0.1:${hp3} is free at once`, await canBind(hp3));

	// Bad bindings: 400 with a message naming the problem.
	const bad = [
		[{ '8000/udp': [{ HostIp: '127.0.0.1', HostPort: String(hp2 + 1) }] }, 'UDP', /TCP/],
		[{ '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '18000-18010' }] }, 'a host port range', /range/],
		[{ '8000/tcp': [{ HostIp: '::1', HostPort: String(hp2 + 1) }] }, 'an IPv6 host address', /IPv4/],
		[{ '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '70000' }] }, 'host port 70000', /host port/],
	];
	for (const [pb, what, re] of bad) {
		let made;
		try {
			made = await L.t(L.docker.createContainer({ Image: L.IMAGE, Cmd: ['true'], Labels: L.labels(), HostConfig: { PortBindings: pb } }), `create with ${what}`);
		} catch (e) {
			if (e instanceof L.CheckError) throw e;
			if (e.statusCode === 400 && re.test(L.errMsg(e))) {
				L.ok(`PortBindings with ${what} -> 400: ${L.errMsg(e)}`);
				continue;
			}
			if (L.PEER === 'dockerd') {
				L.note(`PortBindings with ${what}: Docker answers ${e.statusCode}: ${L.errMsg(e)}`);
				continue;
			}
			L.fail(`PortBindings with ${what} -> 400 matching ${re}`, `${e.statusCode}: ${L.errMsg(e)}`);
		}
		await L.t(made.remove({ force: true }), 'remove');
		if (L.PEER === 'dockerd') L.note(`PortBindings with ${what}: Docker accepts it`);
		else L.fail(`PortBindings with ${what} -> 400`, 'it was accepted');
	}
	try {
		const n = await L.t(
			L.docker.createContainer({ Image: L.IMAGE, Cmd: ['true'], Labels: L.labels(), HostConfig: { NetworkMode: 'none', PortBindings: binding } }),
			'create with NetworkMode none and ports'
		);
		await L.t(n.remove({ force: true }), 'remove');
		if (L.PEER === 'dockerd') L.note('NetworkMode none with PortBindings: Docker accepts it at create');
		else L.fail('NetworkMode none with PortBindings -> 400', 'it was accepted');
	} catch (e) {
		if (e instanceof L.CheckError) throw e;
		L.check('NetworkMode none with PortBindings -> 400', e.statusCode === 400, () => `${e.statusCode}: ${L.errMsg(e)}`);
	}

	// The default network is egress (a default route through tap0), none has none.
	const route = async (mode) => {
		const o = { Cmd: ['cat', '/proc/net/route'], HostConfig: mode ? { NetworkMode: mode } : {} };
		const r = await L.create(o, `create (network ${mode || 'default'})`);
		await L.t(r.start(), 'start');
		await L.t(r.wait(), 'wait');
		const logs = await L.t(r.logs({ stdout: true, stderr: true }), 'logs');
		const out = L.demuxBuffer(logs).stdout.toString('utf8');
		await L.t(r.remove({ force: true }), 'remove');
		return out.split('\n').some((l) => /^\S+\s+00000000\s/.test(l));
	};
	const dflt = await route('');
	if (dflt) L.ok('the default network has a default route (egress)');
	else if (L.PEER === 'dockerd') L.note('the default network: no default route (the private dockerd has no bridge)');
	else L.fail('the default network has a default route (egress)', 'none in /proc/net/route');
	L.check('NetworkMode none: no default route', !(await route('none')));

	// rm -f: the host ports are free when it answers.
	await L.t(c.remove({ force: true }), 'rm -f');
	await L.t(c2.remove({ force: true }), 'rm -f (HostIp "")');
	L.check(`after rm -f, 127.0.0.1:${hp} is free at once`, await canBind(hp));
	L.check(`after rm -f, 127.0.0.1:${hp2} is free at once`, await canBind(hp2));
	const after = await get(hp);
	L.check('nothing answers on the port any more', after.status === undefined, () => L.short(after));
});
