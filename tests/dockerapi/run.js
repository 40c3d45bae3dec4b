'use strict';
// (e) what docker.run does: create, attach, wait (next-exit) before start,
// start, the exit code; logs (not followed) demuxed, with and without
// timestamps; attach with stdin (docker run -i); a Tty container's raw
// stream; AutoRemove with wait condition=removed.
const L = require('./lib');

L.main('run', async () => {
	// dockerode's own docker.run (attach, start, then wait: the container
	// may have exited before the wait)
	const ro = L.collector();
	const re = L.collector();
	const [rdata, rc] = await L.t(L.docker.run(L.IMAGE, ['sh', '-c', 'echo r-out; echo r-err >&2; exit 2'], [ro, re], { Tty: false, Labels: L.labels() }), 'docker.run', 60000);
	await L.t(rc.remove({ force: true }), 'remove the docker.run container');
	L.check('docker.run: StatusCode 2, stdout and stderr demuxed', rdata.StatusCode === 2 && ro.text() === 'r-out\n' && re.text() === 'r-err\n', `${L.short(rdata)} ${L.short(ro.text())} ${L.short(re.text())}`);

	// create + attach + wait + start, as dockerode's docker.run does
	const c = await L.create({ Cmd: ['sh', '-c', 'echo hello; echo oops >&2; exit 3'], AttachStdout: true, AttachStderr: true, Tty: false });
	const stream = await L.t(c.attach({ stream: true, stdout: true, stderr: true }), 'attach');
	const out = L.demux(stream, 'attach output');
	const waiting = L.t(c.wait({ condition: 'next-exit' }), 'wait next-exit', 60000);
	const t0 = Date.now();
	await L.t(c.start(), 'start');
	const w = await waiting;
	const o = await out;
	L.check(`wait (next-exit): StatusCode 3 (${Date.now() - t0} ms after start)`, w.StatusCode === 3, L.short(w));
	L.check('attach: stdout demuxed', o.stdout.toString() === 'hello\n', L.short(o.stdout));
	L.check('attach: stderr demuxed', o.stderr.toString() === 'oops\n', L.short(o.stderr));
	let i = await L.t(c.inspect(), 'inspect');
	// Docker 20.10 itself may set FinishedAt a little before StartedAt: no order checked
	L.check('inspect: exited, ExitCode 3, Running false, StartedAt and FinishedAt set', i.State.Status === 'exited' && i.State.ExitCode === 3 && i.State.Running === false && Date.parse(i.State.StartedAt) > 1.6e12 && Date.parse(i.State.FinishedAt) > 1.6e12 && !i.State.OOMKilled, L.short(i.State));
	L.check('inspect: Config.Cmd, Config.Image, Config.Labels', JSON.stringify(i.Config.Cmd) === JSON.stringify(['sh', '-c', 'echo hello; echo oops >&2; exit 3']) && i.Config.Image === L.IMAGE && i.Config.Labels['sbx.test.run'] === L.RUN, L.short(i.Config));

	const w2 = await L.t(c.wait({ condition: 'not-running' }), 'wait not-running on an exited container');
	L.check('wait (not-running) on an exited container: StatusCode 3 at once', w2.StatusCode === 3, L.short(w2));

	const logs = await L.t(c.logs({ follow: false, stdout: true, stderr: true, timestamps: false }), 'logs');
	const lg = L.demuxBuffer(Buffer.isBuffer(logs) ? logs : Buffer.from(logs));
	L.check('logs: stdout and stderr demuxed', lg.stdout.toString() === 'hello\n' && lg.stderr.toString() === 'oops\n', `${L.short(lg.stdout)} / ${L.short(lg.stderr)}`);
	const lo = L.demuxBuffer(await L.t(c.logs({ follow: false, stdout: true, stderr: false }), 'logs stdout only'));
	L.check('logs: stdout only', lo.stdout.toString() === 'hello\n' && lo.stderr.length === 0, `${L.short(lo.stdout)} / ${L.short(lo.stderr)}`);
	const lt = L.demuxBuffer(await L.t(c.logs({ follow: false, stdout: true, stderr: true, timestamps: true }), 'logs with timestamps'));
	L.check('logs with timestamps: RFC 3339 prefix', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z hello\n$/.test(lt.stdout.toString()), L.short(lt.stdout));

	// a follow=true logs stream of an exited container ends by itself
	const lf = await L.t(c.logs({ follow: true, stdout: true, stderr: true }), 'logs follow');
	const lfo = await L.demux(lf, 'logs follow of an exited container');
	L.check('logs follow of an exited container ends', lfo.stdout.toString() === 'hello\n', L.short(lfo.stdout));

	// docker run -i: stdin through attach, closed by the client
	const ci = await L.create({ Cmd: ['python3', '-c', 'import sys; d = sys.stdin.read(); print(len(d), d.upper(), end="")'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true });
	const si = await L.t(ci.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }), 'attach with stdin');
	const oi = L.demux(si, 'attach output (stdin)');
	const wi = L.t(ci.wait({ condition: 'next-exit' }), 'wait (stdin)', 60000);
	await L.t(ci.start(), 'start (stdin)');
	si.write('abc\n');
	si.end();
	const rwi = await wi;
	const roi = await oi;
	L.check('attach stdin: read to EOF, exit 0', roi.stdout.toString() === '4 ABC\n' && rwi.StatusCode === 0, `${L.short(roi.stdout)} ${L.short(roi.stderr)} ${L.short(rwi)}`);

	// Tty: the attach stream is raw (no 8-byte headers)
	const ct = await L.create({ Cmd: ['sh', '-c', 'echo tty-hello; test -t 1 && echo is-a-tty'], Tty: true, AttachStdout: true });
	const st = await L.t(ct.attach({ stream: true, stdout: true, stderr: true }), 'attach (tty)');
	const raw = L.collector();
	const rawEnd = L.endOf(st, 'attach output (tty)');
	st.pipe(raw);
	const wt = L.t(ct.wait({ condition: 'next-exit' }), 'wait (tty)', 60000);
	await L.t(ct.start(), 'start (tty)');
	await wt;
	await rawEnd;
	// sbx gives Tty containers pipes with a terminal's line ends, not a pty
	// (docs/docker-api.md): `test -t 1` is false there.
	const want = L.PEER === 'dockerd' ? 'tty-hello\r\nis-a-tty\r\n' : 'tty-hello\r\n';
	L.check('Tty: raw stream with a terminal\'s line ends', raw.text() === want, L.short(raw.text()));

	// AutoRemove: wait condition=removed returns once it is gone
	const ca = await L.create({ Cmd: ['sh', '-c', 'exit 5'], HostConfig: { AutoRemove: true } });
	const wr = L.t(ca.wait({ condition: 'removed' }), 'wait removed', 60000);
	await L.t(ca.start(), 'start (AutoRemove)');
	const rwr = await wr;
	L.check('AutoRemove: wait (removed) gives StatusCode 5', rwr.StatusCode === 5, L.short(rwr));
	await L.expectError(ca.inspect(), 404, 'inspect after AutoRemove');

	// Entrypoint + Cmd, WorkingDir, Env, User default root
	const ce = await L.create({ Entrypoint: ['sh', '-c'], Cmd: ['echo "$A $(pwd) $(id -u)"'], Env: ['A=1=2'], WorkingDir: '/var/tmp' });
	const se = await L.t(ce.attach({ stream: true, stdout: true, stderr: true }), 'attach (entrypoint)');
	const oe = L.demux(se, 'attach output (entrypoint)');
	const we = L.t(ce.wait({ condition: 'next-exit' }), 'wait (entrypoint)', 60000);
	await L.t(ce.start(), 'start (entrypoint)');
	await we;
	const roe = await oe;
	L.check('Entrypoint + Cmd, Env, WorkingDir', roe.stdout.toString() === '1=2 /var/tmp 0\n', `${L.short(roe.stdout)} ${L.short(roe.stderr)}`);
});
