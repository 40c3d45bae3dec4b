'use strict';
// The dockerode cycle of tools/bench's dockerapi section (issue 11):
//
//   node tools/benchlib/dockerapi-cycle.js [-w W] [--net-B MODE] SOCK-A SOCK-B N
//
// One cycle: createContainer (IMAGE, Cmd ["sleep","infinity"], no limits),
// start, exec `python3 -c "print(1)"` (AttachStdout/AttachStderr, hijacked,
// the multiplexed output demuxed and read to its end, stdout checked to be
// "1\n"), then remove({force: true}).  W warm-up cycles on each socket
// (default 3), then N measured cycles on each, interleaved A B A B ..., so
// drift in the machine's load hits both alike.  SOCK-A is labelled "sbx",
// SOCK-B "dockerd".  Both sides' containers set no NetworkMode (Docker's
// default: the options of sbx's warm pool); --net-B MODE sets B's
// HostConfig.NetworkMode.
//
// Output on stdout, one line per measured cycle:
//   LABEL<TAB>MICROSECONDS<TAB>ok|error<TAB>create=US,start=US,exec=US,remove=US
// (the wall-clock time of the whole cycle, process.hrtime, then of its
// steps; exec: exec create + start + the output read to its end; the
// fourth field is empty for a failed cycle).  What failed is
// said on stderr, one line per failed cycle.  Every request has a deadline
// (DAPI_BENCH_REQ_MS, default 30000), the whole run one too
// (DAPI_BENCH_TOTAL_S, default 900); a container of a failed cycle is
// removed (force) before the next.  Exit status: 0 if every cycle worked,
// 1 if some failed, 2 on bad arguments or when dockerode cannot be loaded.
// dockerode comes from tests/dockerapi/node_modules (npm ci there).
// DAPI_IMAGE: the image (default sbx-python:latest).

const path = require('path');

let Docker;
try {
	Docker = require(path.join(__dirname, '../../tests/dockerapi/node_modules/dockerode'));
} catch (e) {
	console.error(`dockerapi-cycle: cannot load dockerode (npm ci in tests/dockerapi): ${e.message}`);
	process.exit(2);
}
const { PassThrough } = require('stream');

const IMAGE = process.env.DAPI_IMAGE || 'sbx-python:latest';
const REQ_MS = parseInt(process.env.DAPI_BENCH_REQ_MS, 10) || 30000;
const TOTAL_S = parseInt(process.env.DAPI_BENCH_TOTAL_S, 10) || 900;

function usage(msg) {
	console.error(`dockerapi-cycle: ${msg}`);
	console.error('usage: node dockerapi-cycle.js [-w W] [--net-B MODE] SOCK-A SOCK-B N');
	process.exit(2);
}

const args = process.argv.slice(2);
let warm = 3;
let netB = '';
const pos = [];
for (let i = 0; i < args.length; i++) {
	if (args[i] === '-w') {
		if (!/^[0-9]+$/.test(args[i + 1] || '')) usage('-w needs a number');
		warm = parseInt(args[++i], 10);
	} else if (args[i] === '--net-B') {
		if (!/^[a-z]+$/.test(args[i + 1] || '')) usage('--net-B needs a network mode');
		netB = args[++i];
	} else {
		pos.push(args[i]);
	}
}
if (pos.length !== 3) usage('needs SOCK-A SOCK-B N');
if (!/^[1-9][0-9]*$/.test(pos[2]) || parseInt(pos[2], 10) > 100000) usage('N must be a positive number');
const N = parseInt(pos[2], 10);
if (warm > 1000) usage('-w: at most 1000');

const targets = [
	{ label: 'sbx', docker: new Docker({ socketPath: pos[0] }), net: '' },
	{ label: 'dockerd', docker: new Docker({ socketPath: pos[1] }), net: netB },
];

class Timeout extends Error {}

// within(PROMISE, WHAT, MS): PROMISE's value, or a Timeout after MS.
function within(p, what, ms) {
	let timer;
	const t = new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Timeout(`${what}: no answer within ${ms || REQ_MS} ms`)), ms || REQ_MS);
	});
	return Promise.race([Promise.resolve(p), t]).finally(() => clearTimeout(timer));
}

// The exec's output: stdout and stderr (strings) once the stream has ended.
function demux(modem, stream) {
	return within(
		new Promise((resolve, reject) => {
			const out = [];
			const err = [];
			const o = new PassThrough();
			const e = new PassThrough();
			o.on('data', (d) => out.push(d));
			e.on('data', (d) => err.push(d));
			let done = false;
			const fin = () => {
				if (done) return;
				done = true;
				resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
			};
			modem.demuxStream(stream, o, e);
			stream.on('end', fin);
			stream.on('close', fin);
			stream.on('error', (x) => {
				if (!done) {
					done = true;
					reject(x);
				}
			});
		}),
		'exec output'
	);
}

function errMsg(e) {
	if (e && e.json && typeof e.json.message === 'string') return `${e.statusCode}: ${e.json.message}`;
	if (e && e.statusCode) return `${e.statusCode}: ${e.message}`;
	return e && e.message ? e.message : String(e);
}

// One cycle on target T: { us, steps } (µs), or an Error (.us set).
async function cycle(t) {
	const t0 = process.hrtime.bigint();
	let last = t0;
	const steps = [];
	const step = (name) => {
		const now = process.hrtime.bigint();
		steps.push(`${name}=${(now - last) / 1000n}`);
		last = now;
	};
	let c = null;
	try {
		const opts = { Image: IMAGE, Cmd: ['sleep', 'infinity'] };
		if (t.net) opts.HostConfig = { NetworkMode: t.net };
		c = await within(t.docker.createContainer(opts), 'create');
		step('create');
		await within(c.start(), 'start');
		step('start');
		const ex = await within(
			c.exec({ Cmd: ['python3', '-c', 'print(1)'], AttachStdout: true, AttachStderr: true }),
			'exec create'
		);
		const stream = await within(ex.start({ hijack: true, stdin: false }), 'exec start');
		const r = await demux(t.docker.modem, stream);
		if (r.stdout !== '1\n') throw new Error(`exec: stdout ${JSON.stringify(r.stdout.slice(0, 200))}, stderr ${JSON.stringify(r.stderr.slice(0, 200))}`);
		step('exec');
		const cc = c;
		c = null;
		await within(cc.remove({ force: true }), 'remove');
		step('remove');
		return { us: Number((process.hrtime.bigint() - t0) / 1000n), steps: steps.join(',') };
	} catch (e) {
		const us = Number((process.hrtime.bigint() - t0) / 1000n);
		if (c) {
			try {
				await within(c.remove({ force: true }), 'remove after a failure');
			} catch (e2) {
				console.error(`dockerapi-cycle: ${t.label}: could not remove ${c.id}: ${errMsg(e2)}`);
			}
		}
		const x = new Error(errMsg(e));
		x.us = us;
		throw x;
	}
}

async function main() {
	const total = setTimeout(() => {
		console.error(`dockerapi-cycle: the run took more than ${TOTAL_S} s: stopped`);
		process.exit(1);
	}, TOTAL_S * 1000);
	let failed = 0;
	for (let round = -warm; round < N; round++) {
		for (const t of targets) {
			let us;
			let steps = '';
			let ok = true;
			try {
				({ us, steps } = await cycle(t));
			} catch (e) {
				ok = false;
				us = e.us;
				failed++;
				console.error(`dockerapi-cycle: ${t.label}: ${round < 0 ? 'warm-up ' : ''}cycle ${round < 0 ? round + warm + 1 : round + 1}: ${e.message}`);
			}
			if (round >= 0) process.stdout.write(`${t.label}\t${us}\t${ok ? 'ok' : 'error'}\t${steps}\n`);
		}
	}
	clearTimeout(total);
	return failed ? 1 : 0;
}

main().then(
	(st) => process.exit(st),
	(e) => {
		console.error(`dockerapi-cycle: ${e && e.stack ? e.stack : e}`);
		process.exit(1);
	}
);
