'use strict';
// Shared helpers of the dockerode flows (tests/dockerapi/*.js).
//
// Each flow is a script run as `DOCKER_SOCK=/path/to.sock node FLOW.js`. It
// prints one line per check ("ok - WHAT") and stops at the first failure
// with "FAIL - WHAT: DETAIL" on stdout and exit status 1. Every request has
// a deadline; the whole flow has one too (DAPI_FLOW_TIMEOUT_S, default 240).
// Containers a flow makes carry the labels sbx.test=FLOW and
// sbx.test.run=RUN (random per run); they are removed at the end, also
// after a failure.
//
// DAPI_IMAGE: the image (default sbx-python:latest).
// DAPI_PEER=dockerd: the socket is a real dockerd (run-against-dockerd.sh):
// the few checks where sbx is meant to differ from Docker print what Docker
// did ("note - ...") instead of failing.

const Docker = require('dockerode');
const http = require('http');
const crypto = require('crypto');
const { PassThrough } = require('stream');

const SOCK = process.env.DOCKER_SOCK;
const IMAGE = process.env.DAPI_IMAGE || 'sbx-python:latest';
const PEER = process.env.DAPI_PEER || 'sbx';
const FLOW_TIMEOUT_MS = 1000 * (parseInt(process.env.DAPI_FLOW_TIMEOUT_S, 10) || 240);
// one request or stream: generous, the machine may be loaded
const T_REQ = 30000;

if (!SOCK) {
	console.log('FAIL - setup: DOCKER_SOCK is not set (the path of the API socket)');
	process.exit(2);
}

const docker = new Docker({ socketPath: SOCK });
const RUN = crypto.randomBytes(4).toString('hex');
let FLOW = 'flow';
const made = new Set();

class CheckError extends Error {}

function ok(what) {
	console.log(`ok - ${what}`);
}

function fail(what, detail) {
	throw new CheckError(`${what}${detail === undefined ? '' : ': ' + detail}`);
}

// check WHAT COND [DETAIL]: ok line, or the flow fails.
function check(what, cond, detail) {
	if (!cond) fail(what, typeof detail === 'function' ? detail() : detail);
	ok(what);
}

function note(what) {
	console.log(`note - ${what}`);
}

// withTimeout(PROMISE, MS, WHAT): PROMISE's value, or a failure after MS.
function withTimeout(p, ms, what) {
	let timer;
	const t = new Promise((_, reject) => {
		timer = setTimeout(() => reject(new CheckError(`${what}: no answer within ${ms} ms`)), ms);
	});
	return Promise.race([Promise.resolve(p), t]).finally(() => clearTimeout(timer));
}

// t(PROMISE, WHAT[, MS]): the same with the default deadline.
function t(p, what, ms) {
	return withTimeout(p, ms || T_REQ, what);
}

// expectError(PROMISE, STATUS, WHAT): the request fails with STATUS
// (dockerode's err.statusCode); returns the error.
async function expectError(p, status, what) {
	let res;
	try {
		res = await t(p, what);
	} catch (e) {
		if (e instanceof CheckError) throw e;
		const st = e.statusCode;
		check(`${what} -> ${status}`, st === status, `got ${st === undefined ? 'no status (' + e.message + ')' : st}: ${errMsg(e)}`);
		return e;
	}
	fail(`${what} -> ${status}`, `it succeeded: ${short(res)}`);
}

function errMsg(e) {
	if (e && e.json && typeof e.json.message === 'string') return e.json.message;
	return e && e.message ? e.message : String(e);
}

function short(v) {
	let s;
	try {
		s = Buffer.isBuffer(v) ? v.toString('utf8') : JSON.stringify(v);
	} catch (_) {
		s = String(v);
	}
	if (s === undefined) s = String(v);
	s = s.replace(/\s+$/, '');
	return s.length > 300 ? s.slice(0, 300) + '...' : s;
}

function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

function labels(extra) {
	return Object.assign({ 'sbx.test': FLOW, 'sbx.test.run': RUN }, extra || {});
}

// create(OPTS): docker.createContainer with the flow's labels and image; the
// container is removed at the end of the flow.
async function create(opts, what) {
	const o = Object.assign({ Image: IMAGE }, opts);
	o.Labels = labels(opts.Labels);
	const c = await t(docker.createContainer(o), what || 'create');
	made.add(c.id);
	return c;
}

// collect(): a writable that keeps what it is given; .text() / .buf()
function collector() {
	const p = new PassThrough();
	const chunks = [];
	p.on('data', (d) => chunks.push(d));
	p.buf = () => Buffer.concat(chunks);
	p.text = () => p.buf().toString('utf8');
	return p;
}

// endOf(STREAM, WHAT, MS): resolves when STREAM ends or closes.
function endOf(stream, what, ms) {
	return withTimeout(
		new Promise((resolve, reject) => {
			let done = false;
			const fin = () => {
				if (!done) {
					done = true;
					resolve();
				}
			};
			stream.on('end', fin);
			stream.on('close', fin);
			if (stream.readableEnded || stream.destroyed) fin();
			stream.on('error', (e) => {
				if (!done) {
					done = true;
					reject(e);
				}
			});
		}),
		ms || T_REQ,
		what
	);
}

// demux(STREAM, WHAT): the multiplexed stream's stdout and stderr (Buffers),
// via docker.modem.demuxStream, once the stream ends.
async function demux(stream, what, ms) {
	const out = collector();
	const err = collector();
	docker.modem.demuxStream(stream, out, err);
	await endOf(stream, what, ms);
	return { stdout: out.buf(), stderr: err.buf() };
}

// demuxBuffer(BUF): the 8-byte-header frames of a whole multiplexed body.
function demuxBuffer(buf) {
	const out = [];
	const err = [];
	let i = 0;
	while (i + 8 <= buf.length) {
		const kind = buf[i];
		const n = buf.readUInt32BE(i + 4);
		if (kind > 2 || buf[i + 1] || buf[i + 2] || buf[i + 3] || i + 8 + n > buf.length) {
			throw new CheckError(`not a multiplexed stream at byte ${i}: ${short(buf.slice(i, i + 40))}`);
		}
		(kind === 2 ? err : out).push(buf.slice(i + 8, i + 8 + n));
		i += 8 + n;
	}
	if (i !== buf.length) throw new CheckError(`multiplexed stream: ${buf.length - i} trailing bytes`);
	return { stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

// execRun(CONTAINER, CMD, OPTS): exec with AttachStdout/Stderr, started
// hijacked (OPTS.hijack, default true); returns {stdout, stderr, code, ms}.
async function execRun(c, cmd, opts) {
	opts = opts || {};
	const t0 = process.hrtime.bigint();
	const cfg = { Cmd: cmd, AttachStdout: true, AttachStderr: true };
	if (opts.Env) cfg.Env = opts.Env;
	if (opts.WorkingDir) cfg.WorkingDir = opts.WorkingDir;
	const ex = await t(c.exec(cfg), `exec create ${short(cmd)}`);
	const hijack = opts.hijack === undefined ? true : opts.hijack;
	const stream = await t(ex.start({ hijack, stdin: false, Detach: false, Tty: false }), `exec start ${short(cmd)}`);
	const r = await demux(stream, `exec output of ${short(cmd)}`, opts.ms);
	// the exit code may lag the end of the stream by a moment
	let info;
	for (let i = 0; i < 100; i++) {
		info = await t(ex.inspect(), 'exec inspect');
		if (!info.Running && info.ExitCode !== null) break;
		await sleep(20);
	}
	r.code = info.ExitCode;
	r.running = info.Running;
	r.ms = Number(process.hrtime.bigint() - t0) / 1e6;
	return r;
}

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

// raw({method, path, headers, body, ms}): one HTTP/1.1 request on the
// socket, without dockerode; {status, headers, body (Buffer), json}.
// body may be a Buffer/string, or a function(req) that writes it.
function raw(o) {
	return withTimeout(
		new Promise((resolve, reject) => {
			const headers = Object.assign({}, o.headers || {});
			if (Buffer.isBuffer(o.body) || typeof o.body === 'string') {
				headers['Content-Length'] = Buffer.byteLength(o.body);
			}
			const req = http.request({ socketPath: SOCK, method: o.method || 'GET', path: o.path, headers, agent: false }, (res) => {
				const chunks = [];
				res.on('data', (d) => chunks.push(d));
				res.on('end', () => {
					const body = Buffer.concat(chunks);
					let json;
					try {
						json = JSON.parse(body.toString('utf8'));
					} catch (_) {
						json = undefined;
					}
					resolve({ status: res.statusCode, headers: res.headers, body, json });
				});
				res.on('error', reject);
			});
			req.on('error', reject);
			if (typeof o.body === 'function') o.body(req);
			else {
				if (o.body !== undefined) req.write(o.body);
				req.end();
			}
		}),
		o.ms || T_REQ,
		`${o.method || 'GET'} ${o.path}`
	);
}

// isDockerError(RES, STATUS): Docker's error shape {"message": "..."}.
function isDockerError(res, status) {
	return res.status === status && res.json && typeof res.json.message === 'string' && res.json.message.length > 0;
}

function showRes(res) {
	return `${res.status} ${short(res.body)}`;
}

// Remove what the flow made (by id and by its run label), with deadlines.
async function cleanup() {
	const ids = new Set(made);
	try {
		const l = await withTimeout(docker.listContainers({ all: true, filters: { label: [`sbx.test.run=${RUN}`] } }), T_REQ, 'cleanup list');
		for (const c of l) ids.add(c.Id);
	} catch (e) {
		console.log(`note - cleanup: listing this run's containers failed: ${errMsg(e)}`);
	}
	const left = [];
	await Promise.all(
		[...ids].map(async (id) => {
			try {
				await withTimeout(docker.getContainer(id).remove({ force: true, v: true }), T_REQ, `cleanup remove ${id}`);
			} catch (e) {
				if (e.statusCode !== 404) left.push(`${id.slice(0, 12)}: ${errMsg(e)}`);
			}
		})
	);
	return left;
}

// main(NAME, FN): run the flow FN with the flow deadline, clean up, exit.
function main(name, fn) {
	FLOW = name;
	let finished = false;
	const watchdog = setTimeout(() => {
		if (finished) return;
		console.log(`FAIL - ${name}: the flow did not finish within ${FLOW_TIMEOUT_MS} ms`);
		process.exit(1);
	}, FLOW_TIMEOUT_MS);
	(async () => {
		let rc = 0;
		const t0 = Date.now();
		try {
			await fn();
		} catch (e) {
			rc = 1;
			if (e instanceof CheckError) console.log(`FAIL - ${e.message}`);
			else console.log(`FAIL - ${name}: unexpected error: ${e && e.statusCode ? 'HTTP ' + e.statusCode + ': ' : ''}${errMsg(e)}${e && e.stack ? '\n' + e.stack.split('\n').slice(1, 4).join('\n') : ''}`);
		}
		const left = await cleanup();
		if (left.length) {
			console.log(`FAIL - ${name}: cleanup could not remove: ${left.join('; ')}`);
			rc = 1;
		}
		finished = true;
		clearTimeout(watchdog);
		if (rc === 0) console.log(`ok - ${name}: all checks passed in ${Date.now() - t0} ms`);
		process.exit(rc);
	})();
}

module.exports = {
	docker,
	IMAGE,
	PEER,
	RUN,
	SOCK,
	T_REQ,
	CheckError,
	ok,
	fail,
	check,
	note,
	withTimeout,
	t,
	expectError,
	errMsg,
	short,
	sleep,
	labels,
	create,
	collector,
	endOf,
	demux,
	demuxBuffer,
	execRun,
	sha256,
	raw,
	isDockerError,
	showRes,
	main,
};
