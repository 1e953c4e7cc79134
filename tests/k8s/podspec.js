// SPDX-License-Identifier: MIT
// The kubelet's part of starting one container, for tests/k8s/pod.sh:
//
//   node podspec.js OBJECTS.json WORKLOAD CONTAINER SECRETS.yaml PODDIR PVCDIR
//
// materializes the pod's volumes the way the kubelet does (ConfigMap keys
// and Secret keys as files with defaultMode, group fsGroup; emptyDir; a
// PersistentVolumeClaim as PVCDIR/<claim>, shared by every pod that names
// it, as a ReadWriteMany volume is) under PODDIR/vol, and prints the rest
// as bash assignments: the command, environment (secretKeyRef resolved),
// the user, the mounts, the probes, preStop and the grace period.
'use strict';
const fs = require('fs');
const path = require('path');
const { podSpec, loadDocs } = require('./lib/render');

const [objFile, wname, cname, secFile, podDir, pvcDir] = process.argv.slice(2);
const objs = JSON.parse(fs.readFileSync(objFile, 'utf8'));
const w = objs.find((o) => ['Deployment', 'StatefulSet'].includes(o.kind) && o.metadata.name === wname);
if (!w) throw new Error(`no workload ${wname}`);
const spec = podSpec(w);
const c = [...spec.containers, ...(spec.initContainers || [])].find((x) => x.name === cname);
if (!c) throw new Error(`${wname} has no container ${cname}`);
const secrets = Object.fromEntries(loadDocs(secFile).filter((s) => s.kind === 'Secret')
	.map((s) => [s.metadata.name, s.data]));
const cms = Object.fromEntries(objs.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data]));
const psc = spec.securityContext || {};
const sc = { ...psc, ...(c.securityContext || {}) };
const fsGroup = psc.fsGroup;

const q = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
const own = (p) => { if (fsGroup !== undefined) fs.chownSync(p, 0, fsGroup); };

function volumeDir(v) {
	const dir = path.join(podDir, 'vol', v.name);
	if (v.persistentVolumeClaim) return path.join(pvcDir, v.persistentVolumeClaim.claimName);
	fs.mkdirSync(dir, { recursive: true });
	own(dir);
	const files = (data, mode, dec) => {
		for (const [k, val] of Object.entries(data || {})) {
			const f = path.join(dir, k);
			fs.writeFileSync(f, dec ? Buffer.from(val, 'base64') : val);
			fs.chmodSync(f, mode);
			own(f);
		}
	};
	if (v.configMap) files(cms[v.configMap.name], v.configMap.defaultMode || 0o644, false);
	else if (v.secret) files(secrets[v.secret.secretName], v.secret.defaultMode || 0o644, true);
	else if (v.emptyDir) fs.chmodSync(dir, 0o2775);
	else throw new Error(`volume ${v.name}: kind not supported here`);
	return dir;
}

const vols = {};
for (const v of spec.volumes || []) vols[v.name] = v;
for (const t of w.spec.volumeClaimTemplates || [])
	vols[t.metadata.name] = { name: t.metadata.name,
		persistentVolumeClaim: { claimName: `${t.metadata.name}-${wname}-0` } };
const mounts = [];
for (const m of c.volumeMounts || []) {
	const v = vols[m.name];
	const src = volumeDir(v);
	if (v.persistentVolumeClaim && !fs.existsSync(src)) {
		fs.mkdirSync(src, { recursive: true });
		fs.chmodSync(src, 0o2775);
		own(src);
	}
	const ro = m.readOnly || v.configMap || v.secret || (v.persistentVolumeClaim && v.persistentVolumeClaim.readOnly);
	mounts.push(`${m.subPath ? path.join(src, m.subPath) : src}|${m.mountPath}|${ro ? 'ro' : 'rw'}`);
}
const env = (c.env || []).map((e) => {
	const r = e.valueFrom && e.valueFrom.secretKeyRef;
	return `${e.name}=${r ? Buffer.from(secrets[r.name][r.key], 'base64').toString() : e.value}`;
});
const probe = (p) => (p && p.httpGet ? `${p.httpGet.path} ${
	(c.ports || []).find((x) => x.name === p.httpGet.port || x.containerPort === p.httpGet.port).containerPort}` : '');
const pre = c.lifecycle && c.lifecycle.preStop;
const out = {
	P_UID: sc.runAsUser || 0,
	P_GID: sc.runAsGroup || sc.runAsUser || 0,
	P_FSGROUP: fsGroup === undefined ? '' : fsGroup,
	P_RO_ROOT: sc.readOnlyRootFilesystem ? 1 : 0,
	P_TGPS: spec.terminationGracePeriodSeconds === undefined ? 30 : spec.terminationGracePeriodSeconds,
	P_PRESTOP: pre && pre.sleep ? pre.sleep.seconds : 0,
	P_READY: probe(c.readinessProbe),
	P_LIVE: probe(c.livenessProbe),
	// how soon the kubelet sees a failing readiness probe
	P_READY_PERIOD: c.readinessProbe
		? (c.readinessProbe.periodSeconds || 10) * (c.readinessProbe.failureThreshold || 3) : 0,
};
for (const [k, v] of Object.entries(out)) console.log(`${k}=${q(v)}`);
console.log(`P_CMD=(${[...(c.command || []), ...(c.args || [])].map(q).join(' ')})`);
console.log(`P_ENV=(${env.map(q).join(' ')})`);
console.log(`P_MOUNTS=(${mounts.map(q).join(' ')})`);
