'use strict';
// (b) getOrCreate by label, as a per-conversation sandbox service does:
// list by label, create when absent, reuse (and restart) when present;
// also the name and status filters.
const L = require('./lib');

async function byConv(conv, extra) {
	const filters = Object.assign({ label: [`conv=${conv}`, `sbx.test.run=${L.RUN}`] }, extra || {});
	return L.t(L.docker.listContainers({ all: true, filters }), `list conv=${conv}`);
}

async function getOrCreate(conv, name) {
	const l = await byConv(conv);
	if (l.length > 1) throw new L.CheckError(`getOrCreate: ${l.length} containers for conv=${conv}`);
	if (l.length === 1) {
		const c = L.docker.getContainer(l[0].Id);
		if (l[0].State !== 'running') await L.t(c.start(), 'getOrCreate: restart');
		return { c, created: false };
	}
	const c = await L.create({ name, Cmd: ['sleep', 'infinity'], Labels: { conv } }, 'getOrCreate: create');
	await L.t(c.start(), 'getOrCreate: start');
	return { c, created: true };
}

L.main('getorcreate', async () => {
	const conv = `abc-${L.RUN}`;
	const name = `sbxtest-conv-${L.RUN}`;
	let l = await byConv(conv);
	L.check('no container for a new conversation', l.length === 0, L.short(l));

	const first = await getOrCreate(conv, name);
	L.check('first getOrCreate creates', first.created === true);
	const second = await getOrCreate(conv, name);
	L.check('second getOrCreate reuses the same container', second.created === false && second.c.id === first.c.id, `${second.c.id} vs ${first.c.id}`);

	const other = await getOrCreate(`xyz-${L.RUN}`, `sbxtest-conv2-${L.RUN}`);
	L.check('another conversation gets another container', other.created && other.c.id !== first.c.id);
	l = await byConv(conv);
	L.check('label filter: exactly one container for conv', l.length === 1 && l[0].Id === first.c.id && l[0].Labels.conv === conv, L.short(l.map((x) => x.Id)));

	l = await L.t(L.docker.listContainers({ all: true, filters: { name: [name] } }), 'list by name');
	L.check('name filter finds it', l.length === 1 && l[0].Id === first.c.id && l[0].Names.includes('/' + name), L.short(l.map((x) => x.Names)));
	l = await L.t(L.docker.listContainers({ all: true, filters: { name: [`sbxtest-nomatch-${L.RUN}`] } }), 'list by another name');
	L.check('name filter with no match: empty', l.length === 0, L.short(l));
	const byName = await L.t(L.docker.getContainer(name).inspect(), 'inspect by name');
	L.check('inspect by name: same Id, Name /NAME', byName.Id === first.c.id && byName.Name === '/' + name, `${byName.Id} ${byName.Name}`);
	const byPrefix = await L.t(L.docker.getContainer(first.c.id.slice(0, 12)).inspect(), 'inspect by short id');
	L.check('inspect by a 12-char id prefix', byPrefix.Id === first.c.id);
	await L.expectError(L.create({ name, Cmd: ['true'] }, 'create with a name in use'), 409, 'create with a name in use');

	l = await byConv(conv, { status: ['running'] });
	L.check('status=running filter: 1', l.length === 1, `${l.length}`);
	await L.t(first.c.kill(), 'kill');
	await L.t(first.c.wait({ condition: 'not-running' }), 'wait');
	l = await byConv(conv, { status: ['running'] });
	L.check('status=running filter after kill: 0', l.length === 0, `${l.length}`);
	l = await byConv(conv, { status: ['exited'] });
	L.check('status=exited filter after kill: 1', l.length === 1 && l[0].State === 'exited', L.short(l.map((x) => x.State)));
	l = await L.t(L.docker.listContainers({ filters: { label: [`conv=${conv}`] } }), 'list without all');
	L.check('list without all: an exited container is not shown', l.length === 0, `${l.length}`);
	l = await L.t(L.docker.listContainers({ all: true, filters: { label: [`sbx.test.run=${L.RUN}`, 'conv'] } }), 'list by label key');
	L.check('label filter by key alone: both conversations', l.length === 2, `${l.length}`);

	const third = await getOrCreate(conv, name);
	L.check('getOrCreate of a stopped conversation restarts the same container', !third.created && third.c.id === first.c.id);
	const i = await L.t(third.c.inspect(), 'inspect');
	L.check('restarted container is running', i.State.Running === true && i.State.Status === 'running', i.State.Status);
	const r = await L.execRun(third.c, ['true']);
	L.check('exec after the restart', r.code === 0, L.short(r));
});
