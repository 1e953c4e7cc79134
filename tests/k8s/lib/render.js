// SPDX-License-Identifier: MIT
// A small kustomize: renders a kustomization directory to its objects, for
// the subset deploy/k8s uses (resources, namespace, labels, replicas,
// images, configMapGenerator with the content-hash name suffix and the
// rewriting of references to generated names, patches by strategic merge
// on name-keyed lists or RFC 6902 add/replace, aimed by kind, name and
// labelSelector). Anything else in a kustomization.yaml is refused,
// so the manifests cannot grow a feature this renderer would silently
// ignore. When kubectl is installed, the suite compares this output with
// `kubectl kustomize` (the real one).
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const YAML = require('yaml');

const KNOWN = new Set(['apiVersion', 'kind', 'namespace', 'labels', 'resources',
	'configMapGenerator', 'replicas', 'images', 'patches']);

function loadDocs(file) {
	// YAML 1.1 as kubectl reads it: 0440 is octal there, decimal in 1.2
	return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'), { version: '1.1' })
		.map((d) => {
			if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
			return d.toJS();
		})
		.filter((o) => o !== null && o !== undefined);
}

// The generated name's suffix: a hash of the content, so a changed config
// file renames the ConfigMap and rolls the pods that mount it. It is not
// byte-for-byte kustomize's hash; the comparison with kubectl kustomize
// maps its generated names onto these.
function canonicalJSON(v) {
	if (Array.isArray(v)) return `[${v.map(goJSON).join(',')}]`;
	if (v && typeof v === 'object')
		return `{${Object.keys(v).sort().map((k) => `${canonicalJSON(k)}:${canonicalJSON(v[k])}`).join(',')}}`;
	return JSON.stringify(v);
}
function nameHash(cm) {
	const h = crypto.createHash('sha256')
		.update(canonicalJSON({ kind: 'ConfigMap', name: cm.metadata.name, data: cm.data || {} }))
		.digest('hex');
	const map = { 0: 'g', 1: 'h', 3: 'k', a: 'm', e: 't' };
	return h.slice(0, 10).split('').map((c) => map[c] || c).join('');
}

// Strategic merge, enough for patches: maps merge, lists of objects with a
// "name" merge by name, other lists are replaced.
function merge(dst, src) {
	if (Array.isArray(src) && Array.isArray(dst) &&
	    src.every((e) => e && typeof e === 'object' && 'name' in e)) {
		const out = dst.slice();
		for (const e of src) {
			const i = out.findIndex((d) => d && d.name === e.name);
			if (i < 0) out.push(e); else out[i] = merge(out[i], e);
		}
		return out;
	}
	if (src && typeof src === 'object' && !Array.isArray(src) &&
	    dst && typeof dst === 'object' && !Array.isArray(dst)) {
		const out = { ...dst };
		for (const k of Object.keys(src)) out[k] = k in dst ? merge(dst[k], src[k]) : src[k];
		return out;
	}
	return src;
}

// A patch's target: kind, and name and labelSelector ("k=v,...") if given.
function targets(o, t) {
	const labels = o.metadata.labels || {};
	return o.kind === t.kind && (!t.name || o.metadata.name === t.name) &&
		(!t.labelSelector || t.labelSelector.split(',').every((kv) => {
			const [key, v] = kv.split('=');
			return labels[key] === v;
		}));
}

// RFC 6902 "add" and "replace" (all deploy/k8s needs) on a copy of o.
function json6902(o, ops) {
	const out = JSON.parse(JSON.stringify(o));
	for (const op of ops) {
		if (op.op !== 'add' && op.op !== 'replace') throw new Error(`patch op ${op.op} not supported`);
		const keys = op.path.split('/').slice(1).map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
		const last = keys.pop();
		let at = out;
		for (const key of keys) at = at[key];
		if (Array.isArray(at) && op.op === 'add') at.splice(last === '-' ? at.length : Number(last), 0, op.value);
		else at[last] = op.value;
	}
	return out;
}

// Every place in a pod template that names a ConfigMap.
function renameConfigMaps(spec, names) {
	const fix = (o, key) => { if (o && names[o[key]]) o[key] = names[o[key]]; };
	for (const v of spec.volumes || []) {
		fix(v.configMap, 'name');
		for (const s of (v.projected && v.projected.sources) || []) fix(s.configMap, 'name');
	}
	for (const c of [...(spec.containers || []), ...(spec.initContainers || [])]) {
		for (const e of c.env || []) fix(e.valueFrom && e.valueFrom.configMapKeyRef, 'name');
		for (const e of c.envFrom || []) fix(e.configMapRef, 'name');
	}
}

function podSpec(o) {
	if (o.kind === 'Pod') return o.spec;
	if (o.kind === 'CronJob') return o.spec.jobTemplate.spec.template.spec;
	return o.spec && o.spec.template && o.spec.template.spec;
}

function render(dir) {
	const kfile = path.join(dir, 'kustomization.yaml');
	const k = loadDocs(kfile)[0];
	for (const key of Object.keys(k))
		if (!KNOWN.has(key)) throw new Error(`${kfile}: '${key}' is not supported by tests/k8s/lib/render.js`);
	let objs = [];
	const files = [];
	for (const r of k.resources || []) {
		const p = path.join(dir, r);
		if (fs.statSync(p).isDirectory()) {
			const sub = render(p);
			objs.push(...sub.objects);
			files.push(...sub.files);
		} else {
			files.push(p);
			objs.push(...loadDocs(p).map((o) => ({ ...o, __file: p })));
		}
	}
	const renamed = {};
	for (const g of k.configMapGenerator || []) {
		const data = {};
		for (const f of g.files || []) {
			const [key, rel] = f.includes('=') ? f.split('=') : [path.basename(f), f];
			data[key] = fs.readFileSync(path.join(dir, rel), 'utf8');
			files.push(path.join(dir, rel));
		}
		const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data };
		const hashed = `${g.name}-${nameHash(cm)}`;
		renamed[g.name] = hashed;
		cm.metadata.name = hashed;
		objs.push({ ...cm, __file: kfile, __generatedFrom: g.name });
	}
	for (const p of k.patches || []) {
		if (p.path) files.push(path.join(dir, p.path));
		const patch = p.path ? loadDocs(path.join(dir, p.path))[0] : YAML.parse(p.patch, { version: '1.1' });
		const t = p.target || { kind: patch.kind, name: patch.metadata.name };
		objs = objs.map((o) => (targets(o, t)
			? { ...(Array.isArray(patch) ? json6902(o, patch) : merge(o, patch)), __file: o.__file } : o));
	}
	for (const r of k.replicas || [])
		for (const o of objs)
			if (o.metadata.name === r.name && o.spec && 'replicas' in o.spec) o.spec.replicas = r.count;
	for (const o of objs) {
		if (k.namespace && o.kind !== 'Namespace') o.metadata.namespace = k.namespace;
		for (const l of k.labels || []) {
			if (l.includeSelectors || l.includeTemplates)
				throw new Error(`${kfile}: labels with includeSelectors/includeTemplates are not supported`);
			o.metadata.labels = { ...(o.metadata.labels || {}), ...l.pairs };
		}
		const spec = podSpec(o);
		if (spec) {
			renameConfigMaps(spec, renamed);
			for (const im of k.images || [])
				for (const c of [...(spec.containers || []), ...(spec.initContainers || [])])
					if (c.image.split(':')[0] === im.name) {
						const tag = im.newTag || c.image.split(':')[1];
						c.image = `${im.newName || im.name}${tag ? `:${tag}` : ''}`;
					}
		}
	}
	return { objects: objs, files };
}

module.exports = { render, podSpec, loadDocs };
