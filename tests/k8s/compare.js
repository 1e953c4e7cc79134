// SPDX-License-Identifier: MIT
// node compare.js KUSTOMIZATION_DIR KUBECTL_OUTPUT.yaml: prints nothing when
// lib/render.js and `kubectl kustomize` render the same objects (generated
// ConfigMap names compared without their hash suffix), else the first
// differences.
'use strict';
const fs = require('fs');
const YAML = require('yaml');
const { render } = require('./lib/render');

const [dir, file] = process.argv.slice(2);
const strip = (s) => s.replace(/-[a-z0-9]{10}$/, '-<hash>');
const generated = new Set();
const norm = (o) => JSON.parse(JSON.stringify(o, (k, v) => {
	if (k.startsWith('__')) return undefined;
	if (typeof v === 'string' && generated.has(strip(v))) return strip(v);
	return v;
}));
const ours = render(dir).objects;
for (const o of ours) if (o.__generatedFrom) generated.add(strip(o.metadata.name));
const theirs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS()).filter(Boolean);
const key = (o) => `${o.kind}/${strip(o.metadata.name)}`;
const A = new Map(ours.map((o) => [key(o), norm(o)]));
const B = new Map(theirs.map((o) => [key(o), norm(o)]));
const out = [];
for (const k of new Set([...A.keys(), ...B.keys()])) {
	if (!A.has(k) || !B.has(k)) {
		out.push(`${k}: only in ${A.has(k) ? 'render.js' : 'kubectl'}`);
		continue;
	}
	const canon = (v) => JSON.stringify(v, (kk, vv) => (vv && typeof vv === 'object' && !Array.isArray(vv)
		? Object.fromEntries(Object.keys(vv).sort().map((x) => [x, vv[x]])) : vv));
	if (canon(A.get(k)) !== canon(B.get(k))) out.push(`${k}: differs`);
}
if (out.length) console.log(out.slice(0, 5).join('\n'));
