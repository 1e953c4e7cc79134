// SPDX-License-Identifier: MIT
// tests/k8s/validate.js: renders kustomizations and prints TAP lines
// ("ok - ..." / "not ok - ..." with "#" reasons) for the suite to number:
//
//   node validate.js --secrets secrets.yaml --version V [--dump DIR]
//                    [--with DIR]... KUSTOMIZATION_DIR...
//
// Each directory: every object against the API schemas (lib/schema.js),
// every YAML file of the directory listed in its kustomization, and the
// cross-references (lib/refs.js) over its objects plus those of every
// --with directory (deploy/k8s/metallb: the pool the Services name).
// --dump DIR writes DIR/<name>.json (the rendered objects) for the suite's
// pod runs.
'use strict';
const fs = require('fs');
const path = require('path');
const { render, loadDocs } = require('./lib/render');
const { validate } = require('./lib/schema');
const { check } = require('./lib/refs');

const args = process.argv.slice(2);
const opt = { with: [], dirs: [] };
while (args.length) {
	const a = args.shift();
	if (a === '--secrets') opt.secrets = args.shift();
	else if (a === '--version') opt.version = args.shift();
	else if (a === '--dump') opt.dump = args.shift();
	else if (a === '--with') opt.with.push(args.shift());
	else opt.dirs.push(a);
}
let failed = 0;
const tap = (ok, name, why) => {
	console.log(`${ok ? 'ok' : 'not ok'} - ${name}`);
	if (!ok) {
		failed++;
		if (why) console.log(`#   ${why}`);
	}
};

const secrets = {};
for (const s of loadDocs(opt.secrets))
	if (s.kind === 'Secret') secrets[s.metadata.name] = Object.fromEntries(Object.keys(s.data).map((k) => [k, true]));
const extra = (dir) => opt.with.filter((d) => path.resolve(d) !== path.resolve(dir))
	.flatMap((d) => render(d).objects);
const rel = (p) => path.relative(process.cwd(), p);

// The checker itself: a misspelt field and a wrong type must be caught.
{
	const dep = render(opt.dirs[0]).objects.find((o) => o.kind === 'Deployment');
	const typo = JSON.parse(JSON.stringify(dep));
	typo.spec.template.spec.containers[0].readinesProbe = typo.spec.template.spec.containers[0].readinessProbe;
	const r1 = validate(typo);
	tap(!r1.ok && /readinesProbe/.test(r1.why), 'schema checker: a planted misspelt field (readinesProbe) is refused', r1.why);
	const bad = JSON.parse(JSON.stringify(dep));
	bad.spec.replicas = 'three';
	tap(!validate(bad).ok, 'schema checker: a planted wrong type (replicas: "three") is refused');
}

for (const dir of opt.dirs) {
	const name = rel(dir);
	let r;
	try {
		r = render(dir);
	} catch (e) {
		tap(false, `${name}: renders`, e.message);
		continue;
	}
	tap(true, `${name}: renders (${r.objects.length} objects)`);
	const listed = new Set(r.files.map((f) => path.resolve(f)));
	const orphans = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
		.filter((f) => !listed.has(path.resolve(dir, f)));
	tap(!orphans.length, `${name}: kustomization.yaml lists every manifest of the directory`, orphans.join(', '));
	for (const o of r.objects) {
		const v = validate(o);
		const n = o.__generatedFrom ? `${o.__generatedFrom}-<hash>` : o.metadata.name;
		tap(v.ok, `${name}: ${o.apiVersion} ${o.kind}/${n} matches the API schema (strict fields)`, v.why);
	}
	for (const c of check([...r.objects, ...extra(dir)], { secrets, version: opt.version }))
		tap(c.ok, `${name}: ${c.name}`, c.why);
	if (opt.dump) {
		fs.mkdirSync(opt.dump, { recursive: true });
		fs.writeFileSync(path.join(opt.dump, `${path.basename(dir)}.json`), JSON.stringify(r.objects, null, 1));
	}
}
process.exit(failed ? 1 : 0);
