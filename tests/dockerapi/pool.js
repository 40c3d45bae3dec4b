'use strict';
// (a) a pool of 4 containers as a TypeScript service keeps one: filled at
// start, acquired (taken out, replaced in the background), released (a
// used container is thrown away), shut down (every container of the pool
// removed with force). Half run `sleep infinity`, half `python3` waiting on
// an open stdin (OpenStdin).
const L = require('./lib');

const SIZE = 4;

class Pool {
	constructor() {
		this.idle = [];
		this.busy = new Set();
		this.n = 0;
		this.pending = [];
	}
	async make() {
		const py = this.n++ % 2 === 1;
		const c = await L.create(
			py
				? { Cmd: ['python3'], OpenStdin: true, StdinOnce: false, AttachStdin: false, Labels: { 'sbx.test.pool': 'pool' } }
				: { Cmd: ['sleep', 'infinity'], Labels: { 'sbx.test.pool': 'pool' } },
			'pool: create'
		);
		await L.t(c.start(), 'pool: start');
		return c;
	}
	async fill() {
		const cs = await Promise.all([...Array(SIZE - this.idle.length)].map(() => this.make()));
		this.idle.push(...cs);
	}
	replenish() {
		const p = this.make().then((c) => {
			this.idle.push(c);
		});
		this.pending.push(p);
	}
	async acquire() {
		const c = this.idle.shift();
		if (!c) throw new L.CheckError('pool: acquire on an empty pool');
		const i = await L.t(c.inspect(), 'pool: inspect on acquire');
		if (!i.State.Running) throw new L.CheckError(`pool: acquired container ${c.id} is not running (${i.State.Status})`);
		this.busy.add(c);
		this.replenish();
		return c;
	}
	async release(c) {
		this.busy.delete(c);
		await L.t(c.remove({ force: true }), 'pool: remove on release');
	}
	async settle() {
		await L.t(Promise.all(this.pending), 'pool: replenish', 60000);
		this.pending = [];
	}
	async shutdown() {
		await this.settle();
		const l = await L.t(L.docker.listContainers({ all: true, filters: { label: [`sbx.test.run=${L.RUN}`, 'sbx.test.pool=pool'] } }), 'pool: list on shutdown');
		await L.t(Promise.all(l.map((c) => L.docker.getContainer(c.Id).remove({ force: true }))), 'pool: remove on shutdown', 60000);
		this.idle = [];
		return l.length;
	}
}

async function poolList(all) {
	return L.t(L.docker.listContainers({ all, filters: { label: [`sbx.test.run=${L.RUN}`, 'sbx.test.pool=pool'] } }), 'list the pool');
}

L.main('pool', async () => {
	const pool = new Pool();
	const t0 = Date.now();
	await pool.fill();
	L.ok(`pool of ${SIZE} filled in ${Date.now() - t0} ms`);
	let l = await poolList(false);
	L.check(`${SIZE} running containers listed by label`, l.length === SIZE && l.every((c) => c.State === 'running'), L.short(l.map((c) => c.State)));
	L.check('list: Labels, Image, Names, Command in each entry', l.every((c) => c.Labels['sbx.test.pool'] === 'pool' && c.Image && Array.isArray(c.Names) && c.Names[0].startsWith('/') && typeof c.Command === 'string'), L.short(l[0]));

	// python3 with an open stdin stays up
	await L.sleep(500);
	for (const c of pool.idle) {
		const i = await L.t(c.inspect(), 'inspect');
		L.check(`${i.Config.Cmd.join(' ')} (OpenStdin ${i.Config.OpenStdin}) still running`, i.State.Running === true && i.State.Status === 'running', i.State.Status);
	}

	const a = await pool.acquire();
	const b = await pool.acquire();
	L.check('two acquired containers are distinct', a.id !== b.id);
	const ra = await L.execRun(a, ['sh', '-c', 'echo a > /tmp/mark; cat /tmp/mark']);
	const rb = await L.execRun(b, ['sh', '-c', 'cat /tmp/mark 2>/dev/null || echo none']);
	L.check('exec in the acquired containers; their files are their own', ra.stdout.toString() === 'a\n' && rb.stdout.toString() === 'none\n', `${L.short(ra.stdout)} / ${L.short(rb.stdout)}`);
	await pool.settle();
	l = await poolList(false);
	L.check(`replenished: ${SIZE} idle + 2 acquired = ${SIZE + 2} running`, l.length === SIZE + 2 && pool.idle.length === SIZE, `${l.length} running, ${pool.idle.length} idle`);

	await pool.release(a);
	await pool.release(b);
	await L.expectError(a.inspect(), 404, 'inspect a released container');
	l = await poolList(true);
	L.check(`after release: ${SIZE} in the pool`, l.length === SIZE, `${l.length}`);

	// a third acquire after the releases still works
	const c = await pool.acquire();
	const rc = await L.execRun(c, ['python3', '-c', 'print(6*7)']);
	L.check('exec python3 in a replenished container', rc.stdout.toString() === '42\n' && rc.code === 0, L.short(rc));
	await pool.release(c);

	const n = await pool.shutdown();
	L.check(`shutdown removed the ${SIZE} idle containers`, n === SIZE, `${n}`);
	l = await poolList(true);
	L.check('nothing of the pool is left (all: true)', l.length === 0, L.short(l.map((x) => x.Id)));
});
