'use strict';
// (c) exec: demuxed stdout/stderr and the exit code, hijacked and plain,
// Env and WorkingDir, a large output, stdin, and the duration of each.
const L = require('./lib');

L.main('exec', async () => {
	const c = await L.create({ Cmd: ['sleep', 'infinity'] });
	await L.t(c.start(), 'start');
	L.ok('container started');

	let r = await L.execRun(c, ['sh', '-c', 'echo out; echo err >&2; exit 7']);
	L.check('hijacked exec: stdout', r.stdout.toString() === 'out\n', `got ${L.short(r.stdout)}`);
	L.check('hijacked exec: stderr', r.stderr.toString() === 'err\n', `got ${L.short(r.stderr)}`);
	L.check('hijacked exec: ExitCode 7', r.code === 7 && r.running === false, `ExitCode ${r.code}, Running ${r.running}`);
	L.check(`hijacked exec: duration ${r.ms.toFixed(1)} ms (< 10 s)`, r.ms < 10000);

	r = await L.execRun(c, ['sh', '-c', 'printf "a\\nb"; printf x >&2; exit 0'], { hijack: false });
	L.check('plain (hijack:false) exec: stdout', r.stdout.toString() === 'a\nb', `got ${L.short(r.stdout)}`);
	L.check('plain (hijack:false) exec: stderr', r.stderr.toString() === 'x', `got ${L.short(r.stderr)}`);
	L.check('plain (hijack:false) exec: ExitCode 0', r.code === 0, `ExitCode ${r.code}`);
	L.check(`plain exec: duration ${r.ms.toFixed(1)} ms (< 10 s)`, r.ms < 10000);

	r = await L.execRun(c, ['sh', '-c', 'echo "$FOO|$BAR"; pwd'], { Env: ['FOO=bar baz', 'BAR='], WorkingDir: '/usr/lib' });
	L.check('exec Env and WorkingDir', r.stdout.toString() === 'bar baz|\n/usr/lib\n' && r.code === 0, `stdout ${L.short(r.stdout)} stderr ${L.short(r.stderr)} ExitCode ${r.code}`);

	r = await L.execRun(c, ['python3', '-c', 'import sys; sys.exit(int(sys.argv[1]))', '42']);
	L.check('exec python3: ExitCode 42', r.code === 42, `ExitCode ${r.code}, stderr ${L.short(r.stderr)}`);

	// 2 MiB on stdout and 64 KiB on stderr, interleaved
	const py = 'import os,sys\nfor i in range(32):\n  os.write(1, bytes([65 + i % 26]) * 65536)\n  if i % 16 == 0: os.write(2, b"e" * 32768)\n';
	r = await L.execRun(c, ['python3', '-c', py], { ms: 60000 });
	let want = Buffer.concat([...Array(32).keys()].map((i) => Buffer.alloc(65536, 65 + (i % 26))));
	L.check('exec: 2 MiB of stdout intact', r.stdout.equals(want), `got ${r.stdout.length} bytes (sha256 ${L.sha256(r.stdout).slice(0, 16)}, want ${L.sha256(want).slice(0, 16)})`);
	L.check('exec: 64 KiB of stderr intact', r.stderr.equals(Buffer.alloc(65536, 'e')), `got ${r.stderr.length} bytes`);
	L.check('exec: ExitCode 0 after large output', r.code === 0, `ExitCode ${r.code}`);

	// stdin: hijacked, written then half-closed
	const ex = await L.t(c.exec({ Cmd: ['sh', '-c', 'cat; echo done >&2'], AttachStdin: true, AttachStdout: true, AttachStderr: true }), 'exec create (stdin)');
	const stream = await L.t(ex.start({ hijack: true, stdin: true }), 'exec start (stdin)');
	const pending = L.demux(stream, 'exec output (stdin)');
	stream.write('line one\n');
	stream.write(Buffer.from([0, 1, 2, 255]));
	stream.end();
	const sr = await pending;
	L.check('exec stdin: echoed back by cat', sr.stdout.equals(Buffer.concat([Buffer.from('line one\n'), Buffer.from([0, 1, 2, 255])])), `got ${L.short(sr.stdout)}`);
	L.check('exec stdin: EOF reached cat', sr.stderr.toString() === 'done\n', `stderr ${L.short(sr.stderr)}`);

	// the exec's record
	const info = await L.t(ex.inspect(), 'exec inspect');
	L.check('exec inspect: ID, ContainerID, ProcessConfig', info.ID === ex.id && info.ContainerID === c.id && info.ProcessConfig && info.ProcessConfig.entrypoint === 'sh', L.short(info));

	// resize is accepted
	const ex2 = await L.t(c.exec({ Cmd: ['true'], AttachStdout: true, Tty: true }), 'exec create (tty)');
	const s2 = await L.t(ex2.start({ hijack: true, stdin: false, Tty: true }), 'exec start (tty)');
	try {
		await L.t(ex2.resize({ h: 40, w: 100 }), 'exec resize');
		L.ok('exec resize accepted');
	} catch (e) {
		// Docker answers 500/409 when the process has already ended; only
		// a hang or a 404 (unknown route) is wrong
		L.check('exec resize answered (not 404)', e.statusCode && e.statusCode !== 404, `${e.statusCode}: ${L.errMsg(e)}`);
	}
	await L.endOf(s2, 'exec output (tty)');

	await L.expectError(L.docker.getExec('0123456789abcdef0123456789abcdef').inspect(), 404, 'inspect an unknown exec');
});
