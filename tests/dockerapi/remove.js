'use strict';
// (h) remove: force + v on a running container, then 404s; a running
// container without force -> 409; a created one without force.
const L = require('./lib');

L.main('remove', async () => {
	const c = await L.create({ Cmd: ['sleep', 'infinity'] });
	await L.t(c.start(), 'start');
	await L.expectError(c.remove(), 409, 'remove a running container without force');
	const i = await L.t(c.inspect(), 'inspect');
	L.check('still running after the refused remove', i.State.Running === true, i.State.Status);
	const t0 = Date.now();
	await L.t(c.remove({ force: true, v: true }), 'remove force v');
	L.ok(`remove {force, v} of a running container in ${Date.now() - t0} ms`);
	await L.expectError(c.inspect(), 404, 'inspect after remove');
	await L.expectError(c.remove({ force: true }), 404, 'remove again');
	await L.expectError(c.start(), 404, 'start after remove');
	await L.expectError(c.exec({ Cmd: ['true'], AttachStdout: true }), 404, 'exec after remove');
	const l = await L.t(L.docker.listContainers({ all: true, filters: { id: [c.id] } }), 'list');
	L.check('not listed after remove', l.length === 0, L.short(l));

	const d = await L.create({ Cmd: ['true'] });
	await L.t(d.remove(), 'remove a created container');
	await L.expectError(d.inspect(), 404, 'inspect a removed created container');

	const e = await L.create({ Cmd: ['sh', '-c', 'exit 0'] });
	const w = L.t(e.wait({ condition: 'removed' }), 'wait removed', 60000);
	await L.t(e.start(), 'start');
	await L.t(e.wait({ condition: 'not-running' }), 'wait not-running');
	await L.t(e.remove(), 'remove an exited container');
	const rw = await w;
	L.check('wait (removed) returns on remove', rw.StatusCode === 0, L.short(rw));
});
