// SPDX-License-Identifier: MIT
// Validates one object against the Kubernetes API's OpenAPI schemas (the
// kubernetes-models validators, generated from the API's own OpenAPI
// document) or, for MetalLB's CRDs, against tests/k8s/metallb-schema.json.
//
// The OpenAPI schemas allow unknown fields, while the API server rejects
// them (strict field validation, kubectl's default): a misspelt field
// would pass the schema and be dropped by the cluster. So every field is
// also probed: it is replaced by a value no schema type accepts, and a
// field the schema does not know produces no error at its own path.
'use strict';
const path = require('path');
const Ajv = require('ajv');
const metallb = require('../metallb-schema.json');

const ajv = new Ajv({ allErrors: true, strict: false });
const crds = {};
for (const [k, s] of Object.entries(metallb.kinds))
	crds[k] = ajv.compile({ ...s, definitions: metallb.definitions });

function modelFor(apiVersion, kind) {
	try {
		const m = require(`kubernetes-models/${apiVersion}/${kind}`);
		return m[kind];
	} catch (e) {
		return null;
	}
}

// Returns the ajv errors (array, empty when valid) or null when no schema
// is known for apiVersion/kind.
function schemaErrors(o) {
	const crd = crds[`${o.apiVersion}/${o.kind}`];
	if (crd) return crd(o) ? [] : crd.errors;
	const M = modelFor(o.apiVersion, o.kind);
	if (!M) return null;
	try {
		new M(o).validate();
		return [];
	} catch (e) {
		if (!e.errors) throw e;
		return e.errors;
	}
}

const ptr = (p) => p.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
const clone = (v) => JSON.parse(JSON.stringify(v));

// Paths (arrays of keys) of the fields of o the schema does not know.
function unknownFields(o) {
	const unknown = [];
	const poison = () => {};
	const walk = (v, p) => {
		if (Array.isArray(v)) {
			v.forEach((e, i) => walk(e, [...p, i]));
			return;
		}
		if (!v || typeof v !== 'object') return;
		for (const k of Object.keys(v)) {
			// apiVersion and kind choose the schema itself
			if (!p.length && (k === 'apiVersion' || k === 'kind')) continue;
			const probe = clone(o);
			let at = probe;
			for (const s of p) at = at[s];
			at[k] = poison;
			const errs = schemaErrors(probe) || [];
			if (errs.some((e) => e.instancePath === ptr([...p, k]))) walk(v[k], [...p, k]);
			else unknown.push([...p, k].join('.'));
		}
	};
	walk(o, []);
	return unknown;
}

// { ok, why }: the schema's verdict, then the strict field check.
function validate(o) {
	const clean = { ...o };
	for (const k of Object.keys(clean)) if (k.startsWith('__')) delete clean[k];
	const errs = schemaErrors(clean);
	if (errs === null) return { ok: false, why: `no schema for ${o.apiVersion} ${o.kind}` };
	if (errs.length)
		return { ok: false, why: errs.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ') };
	const unknown = unknownFields(clean);
	if (unknown.length) return { ok: false, why: `unknown fields: ${unknown.join(', ')}` };
	return { ok: true };
}

module.exports = { validate, schemaErrors, source: path.dirname(require.resolve('kubernetes-models/package.json')) };
