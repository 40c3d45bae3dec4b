'use strict';
// (f) OOMKilled: 64 MiB (no swap), python3 allocating 1 GiB.
const L = require('./lib');

L.main('oom', async () => {
	const MiB = 1024 * 1024;
	const c = await L.create({
		Cmd: ['python3', '-c', 'import sys; print("allocating", flush=True); b = b"x" * (1 << 30); print("survived", len(b))'],
		HostConfig: { Memory: 64 * MiB, MemorySwap: 64 * MiB },
	});
	const i0 = await L.t(c.inspect(), 'inspect');
	L.check('HostConfig.Memory and MemorySwap kept', i0.HostConfig.Memory === 64 * MiB && i0.HostConfig.MemorySwap === 64 * MiB, `${i0.HostConfig.Memory} ${i0.HostConfig.MemorySwap}`);
	const w = L.t(c.wait({ condition: 'next-exit' }), 'wait for the memory bomb', 90000);
	await L.t(c.start(), 'start');
	const r = await w;
	L.check('wait: StatusCode 137 (SIGKILL)', r.StatusCode === 137, L.short(r));
	const i = await L.t(c.inspect(), 'inspect');
	L.check('inspect: State.OOMKilled true, ExitCode 137, exited', i.State.OOMKilled === true && i.State.ExitCode === 137 && i.State.Status === 'exited', L.short(i.State));
	const lg = L.demuxBuffer(await L.t(c.logs({ stdout: true, stderr: true }), 'logs'));
	L.check('it started allocating and did not survive', lg.stdout.toString() === 'allocating\n', L.short(lg.stdout));

	// the same container under no limit problem: a small allocation passes
	const ok = await L.create({ Cmd: ['python3', '-c', 'b = b"x" * (16 << 20)'], HostConfig: { Memory: 64 * MiB, MemorySwap: 64 * MiB } });
	const w2 = L.t(ok.wait({ condition: 'next-exit' }), 'wait (16 MiB)', 60000);
	await L.t(ok.start(), 'start (16 MiB)');
	const r2 = await w2;
	const i2 = await L.t(ok.inspect(), 'inspect (16 MiB)');
	L.check('16 MiB under a 64 MiB limit: exit 0, not OOMKilled', r2.StatusCode === 0 && i2.State.OOMKilled === false, L.short(i2.State));
});
