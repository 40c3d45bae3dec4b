'use strict';
// (g) a timed-out container killed with kill; stop with t=1 on a process
// that ignores SIGTERM; restart; the 304/409 answers on stopped containers.
const L = require('./lib');

L.main('kill', async () => {
	const c = await L.create({ Cmd: ['sleep', '1000'] });
	await L.t(c.start(), 'start');
	const w = L.t(c.wait({ condition: 'not-running' }), 'wait', 60000);
	await L.sleep(200);
	const t0 = Date.now();
	await L.t(c.kill(), 'kill');
	const r = await w;
	L.check(`kill: wait StatusCode 137 (${Date.now() - t0} ms)`, r.StatusCode === 137, L.short(r));
	let i = await L.t(c.inspect(), 'inspect');
	L.check('inspect after kill: exited, Running false, ExitCode 137, FinishedAt set', i.State.Status === 'exited' && i.State.Running === false && i.State.ExitCode === 137 && !i.State.FinishedAt.startsWith('0001'), L.short(i.State));
	await L.expectError(c.kill(), 409, 'kill a stopped container');
	await L.expectError(c.stop(), 304, 'stop a stopped container');

	// kill with a signal the process handles
	const h = await L.create({ Cmd: ['python3', '-c', 'import signal, sys, time\nsignal.signal(signal.SIGUSR1, lambda *a: sys.exit(9))\nprint("ready", flush=True)\ntime.sleep(1000)'] });
	await L.t(h.start(), 'start (SIGUSR1)');
	await waitLog(h, 'ready\n');
	const wh = L.t(h.wait({ condition: 'not-running' }), 'wait (SIGUSR1)', 60000);
	await L.t(h.kill({ signal: 'SIGUSR1' }), 'kill SIGUSR1');
	const rh = await wh;
	L.check('kill signal=SIGUSR1 reaches the process: exit 9', rh.StatusCode === 9, L.short(rh));

	// stop t=1: SIGTERM ignored, SIGKILL after 1 s
	const py = 'import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint("ready", flush=True)\ntime.sleep(1000)';
	const s = await L.create({ Cmd: ['python3', '-c', py] });
	await L.t(s.start(), 'start (ignores SIGTERM)');
	await waitLog(s, 'ready\n');
	const t1 = Date.now();
	await L.t(s.stop({ t: 1 }), 'stop t=1', 30000);
	const dt = Date.now() - t1;
	i = await L.t(s.inspect(), 'inspect after stop');
	L.check(`stop t=1 on a process ignoring SIGTERM: killed after ${dt} ms (>= 900, < 10000)`, dt >= 900 && dt < 10000);
	L.check('inspect after stop: exited, ExitCode 137', i.State.Status === 'exited' && i.State.ExitCode === 137, L.short(i.State));

	// restart: running again, a new StartedAt
	const started = i.State.StartedAt;
	await L.t(s.restart({ t: 1 }), 'restart', 30000);
	i = await L.t(s.inspect(), 'inspect after restart');
	L.check('restart: running, a new StartedAt', i.State.Running === true && i.State.Status === 'running' && i.State.StartedAt !== started, L.short(i.State));
	await waitLog(s, 'ready\nready\n');
	const r2 = await L.execRun(s, ['echo', 'alive']);
	L.check('exec after restart', r2.stdout.toString() === 'alive\n', L.short(r2));
	// restart of a running container (stop t=1, then start)
	const t2 = Date.now();
	await L.t(s.restart({ t: 1 }), 'restart a running container', 30000);
	i = await L.t(s.inspect(), 'inspect after the second restart');
	L.check(`restart of a running container (${Date.now() - t2} ms): running again`, i.State.Running === true, L.short(i.State));
	await L.t(s.kill(), 'kill');
	await L.t(s.wait({ condition: 'not-running' }), 'wait after kill');

	await L.expectError(L.docker.getContainer('sbxtest-no-such-container').kill(), 404, 'kill an unknown container');
});

// waitLog(C, TEXT): until the container's stdout is TEXT (10 s).
async function waitLog(c, text) {
	let got = '';
	for (let k = 0; k < 200; k++) {
		got = L.demuxBuffer(await L.t(c.logs({ stdout: true, stderr: true }), 'logs')).stdout.toString();
		if (got === text) return;
		await L.sleep(50);
	}
	L.fail('waiting for the container to be ready', `its output is ${L.short(got)}, want ${L.short(text)}`);
}
