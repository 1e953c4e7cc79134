// SPDX-License-Identifier: MIT
// Cross-references between the rendered objects, the Secrets secrets.sh
// writes and the daemons' own configuration files: what the API server
// cannot check and a cluster would only reveal by failing (a Service that
// selects no pod, a probe on a port nothing listens on, a config path on
// no volume, a grace period shorter than the drain).
'use strict';
const { podSpec } = require('./render');
const { parseIni, hostPort, seconds } = require('./ini');

// The daemons, their config files and the container port their [x] listen
// key opens (name, protocol).
const DAEMONS = {
	as: { sec: 'as', port: 'tls', proto: 'TCP' },
	nms: { sec: 'nms', port: 'signal', proto: 'UDP' },
	trs: { sec: 'trs', port: 'relay', proto: 'UDP' },
};

const matches = (sel, labels) =>
	Object.entries((sel && sel.matchLabels) || {}).every(([k, v]) => labels && labels[k] === v) &&
	((sel && sel.matchExpressions) || []).every((e) =>
		(e.operator === 'In' && e.values.includes(labels[e.key])) ||
		(e.operator === 'NotIn' && !e.values.includes(labels[e.key])) ||
		(e.operator === 'Exists' && e.key in labels) ||
		(e.operator === 'DoesNotExist' && !(e.key in labels)));

function check(objs, opts) {
	const results = [];
	const t = (name, ok, why) => results.push({ name, ok: !!ok, why: ok ? '' : why || '' });
	const all = (list, f) => { const bad = list.filter((x) => !f(x)); return [bad.length === 0, bad]; };
	const of = (kind) => objs.filter((o) => o.kind === kind);
	const workloads = objs.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
	const configMaps = Object.fromEntries(of('ConfigMap').map((c) => [c.metadata.name, c]));
	const secrets = opts.secrets;	// name -> { key: true }
	const containersOf = (w) => [...(podSpec(w).containers || []), ...(podSpec(w).initContainers || [])];
	const portsOf = (w) => (podSpec(w).containers || []).flatMap((c) => c.ports || []);
	const id = (o) => `${o.kind}/${o.metadata.name}`;

	for (const w of workloads) {
		const spec = podSpec(w);
		const labels = w.spec.template.metadata.labels;
		t(`${id(w)}: selector matches its pod template's labels`, matches(w.spec.selector, labels));
		let [ok, bad] = all(spec.containers, (c) => c.resources && ['requests', 'limits'].every((r) =>
			c.resources[r] && c.resources[r].cpu && c.resources[r].memory));
		t(`${id(w)}: every container has CPU and memory requests and limits`, ok, bad.map((c) => c.name).join());
		const ps = spec.securityContext || {};
		[ok, bad] = all(containersOf(w), (c) => {
			const s = c.securityContext || {};
			return s.allowPrivilegeEscalation === false && s.capabilities &&
				JSON.stringify(s.capabilities.drop) === '["ALL"]' && !s.privileged &&
				(s.runAsNonRoot || ps.runAsNonRoot) && (ps.runAsUser || s.runAsUser) > 0 &&
				((s.seccompProfile || ps.seccompProfile || {}).type === 'RuntimeDefault');
		});
		t(`${id(w)}: meets Pod Security "restricted" (non-root, no escalation, no capabilities, seccomp)`,
			ok, bad.map((c) => c.name).join());
		[ok, bad] = all(containersOf(w), (c) => (c.securityContext || {}).readOnlyRootFilesystem === true);
		t(`${id(w)}: read-only root filesystem`, ok, bad.map((c) => c.name).join());
		const vols = Object.fromEntries((spec.volumes || []).map((v) => [v.name, v]));
		const claims = new Set((w.spec.volumeClaimTemplates || []).map((v) => v.metadata.name));
		[ok, bad] = all(containersOf(w), (c) => {
			const paths = (c.volumeMounts || []).map((m) => m.mountPath);
			return new Set(paths).size === paths.length &&
				(c.volumeMounts || []).every((m) => vols[m.name] || claims.has(m.name));
		});
		t(`${id(w)}: every volume mount names a volume, no path mounted twice`, ok, bad.map((c) => c.name).join());
		const cmRefs = [], secRefs = [];
		for (const v of Object.values(vols)) {
			if (v.configMap) cmRefs.push([v.configMap.name, (v.configMap.items || []).map((i) => i.key), v.name]);
			if (v.secret) secRefs.push([v.secret.secretName, [], v.name]);
			if (v.persistentVolumeClaim)
				t(`${id(w)}: volume ${v.name}: PersistentVolumeClaim ${v.persistentVolumeClaim.claimName} exists`,
					of('PersistentVolumeClaim').some((p) => p.metadata.name === v.persistentVolumeClaim.claimName));
		}
		for (const c of containersOf(w)) {
			for (const m of c.volumeMounts || []) {
				const v = vols[m.name];
				if (!m.subPath || !v) continue;
				if (v.configMap) cmRefs.push([v.configMap.name, [m.subPath], v.name]);
				if (v.secret) secRefs.push([v.secret.secretName, [m.subPath], v.name]);
			}
			for (const e of c.env || []) {
				const r = e.valueFrom && e.valueFrom.secretKeyRef;
				if (r) secRefs.push([r.name, [r.key], `env ${e.name}`]);
			}
		}
		for (const [name, keys, where] of cmRefs)
			t(`${id(w)}: ${where}: ConfigMap ${name.replace(/-[a-z0-9]{10}$/, '-<hash>')} exists with ${keys.join(', ') || 'its data'}`,
				configMaps[name] && keys.every((k) => k in (configMaps[name].data || {})));
		for (const [name, keys, where] of secRefs)
			t(`${id(w)}: ${where}: Secret ${name} is one secrets.sh writes${keys.length ? `, with key ${keys}` : ''}`,
				secrets[name] && keys.every((k) => secrets[name][k]));
		[ok, bad] = all(containersOf(w), (c) => ['readinessProbe', 'livenessProbe'].every((p) => {
			const port = c[p] && ((c[p].httpGet || c[p].tcpSocket || {}).port);
			return c.name !== undefined && (!c[p] || c[p].exec ||
				(c.ports || []).some((cp) => cp.name === port || cp.containerPort === port));
		}));
		t(`${id(w)}: probes use ports the container declares`, ok, bad.map((c) => c.name).join());
		for (const c of containersOf(w)) {
			if (!/^localhost\//.test(c.image)) continue;
			t(`${id(w)}: ${c.name}: image ${c.image} is built here (imagePullPolicy Never, tag = VERSION ${opts.version})`,
				c.imagePullPolicy === 'Never' && c.image.endsWith(`:${opts.version}`));
		}
		const services = of('Service').filter((s) => matches({ matchLabels: s.spec.selector }, labels));
		t(`${id(w)}: a Service selects its pods`, services.length > 0);
	}

	for (const s of of('Service')) {
		const ws = workloads.filter((w) => matches({ matchLabels: s.spec.selector }, w.spec.template.metadata.labels));
		t(`Service/${s.metadata.name}: selects exactly one workload`, ws.length === 1, `${ws.length}`);
		if (ws.length !== 1) continue;
		const [ok, bad] = all(s.spec.ports, (p) => portsOf(ws[0]).some((cp) =>
			(cp.name === p.targetPort || cp.containerPort === p.targetPort) &&
			(cp.protocol || 'TCP') === (p.protocol || 'TCP')));
		t(`Service/${s.metadata.name}: every targetPort is a container port with the same protocol`, ok,
			bad.map((p) => p.name).join());
	}

	for (const h of of('HorizontalPodAutoscaler')) {
		const w = workloads.find((x) => x.kind === h.spec.scaleTargetRef.kind && x.metadata.name === h.spec.scaleTargetRef.name);
		t(`HorizontalPodAutoscaler/${h.metadata.name}: scales an existing ${h.spec.scaleTargetRef.kind}`, w);
		const cpu = (h.spec.metrics || []).some((m) => m.type === 'Resource' && m.resource.name === 'cpu');
		t(`HorizontalPodAutoscaler/${h.metadata.name}: on CPU utilization, and the pods request CPU`,
			cpu && w && podSpec(w).containers.every((c) => c.resources.requests.cpu));
		t(`HorizontalPodAutoscaler/${h.metadata.name}: minReplicas >= 2 (a drain never empties the service)`,
			h.spec.minReplicas >= 2);
		t(`HorizontalPodAutoscaler/${h.metadata.name}: the ${h.spec.scaleTargetRef.kind} leaves spec.replicas to it (apply would reset the count)`,
			w && w.spec.replicas === undefined);
	}
	for (const p of of('PodDisruptionBudget')) {
		const ws = workloads.filter((w) => matches(p.spec.selector, w.spec.template.metadata.labels));
		t(`PodDisruptionBudget/${p.metadata.name}: selects one workload`, ws.length === 1);
	}
	for (const n of of('NetworkPolicy')) {
		const ws = workloads.filter((w) => matches(n.spec.podSelector, w.spec.template.metadata.labels));
		t(`NetworkPolicy/${n.metadata.name}: selects one workload`, ws.length === 1);
		for (const r of n.spec.ingress || []) {
			for (const f of r.from || []) {
				const src = workloads.filter((w) => matches(f.podSelector, w.spec.template.metadata.labels));
				t(`NetworkPolicy/${n.metadata.name}: admits ${src.map((w) => w.metadata.name).join(', ') || 'no pod'}`,
					src.length > 0);
			}
			if (ws.length === 1)
				t(`NetworkPolicy/${n.metadata.name}: its ports are the selected pods' ports`,
					(r.ports || []).every((p) => portsOf(ws[0]).some((cp) => cp.name === p.port || cp.containerPort === p.port)));
		}
	}
	for (const ns of of('Namespace')) {
		const enforce = (ns.metadata.labels || {})['pod-security.kubernetes.io/enforce'];
		t(`Namespace/${ns.metadata.name}: enforces Pod Security "restricted"`, enforce === 'restricted');
	}

	if (workloads.length) checkDaemons(objs, opts, t, { workloads, configMaps, matches });
	checkMetalLB(objs, t);
	return results;
}

function checkDaemons(objs, opts, t, ctx) {
	const svc = (name) => objs.find((o) => o.kind === 'Service' && o.metadata.name === name);
	const lbIPs = (s) => ((s && s.metadata.annotations) || {})['metallb.universe.tf/loadBalancerIPs'];
	const confs = {};
	for (const [d, info] of Object.entries(DAEMONS)) {
		const w = ctx.workloads.find((x) => x.metadata.name === `cyphonic-${d}`);
		t(`${d}: Deployment cyphonic-${d} exists`, w && w.kind === 'Deployment');
		if (!w) continue;
		const spec = podSpec(w);
		const c = spec.containers[0];
		const cfgPath = c.command[c.command.indexOf('-c') + 1];
		const mount = (c.volumeMounts || []).find((m) => m.mountPath === cfgPath);
		const vol = mount && spec.volumes.find((v) => v.name === mount.name);
		const cm = vol && vol.configMap && ctx.configMaps[vol.configMap.name];
		const text = cm && cm.data[mount.subPath];
		t(`${d}: the container runs cyphonic-${d} -c ${cfgPath}, the file ${d}.conf of the generated ConfigMap`,
			c.command[0] === `/usr/sbin/cyphonic-${d}` && text && mount.subPath === `${d}.conf` && cm.__generatedFrom);
		if (!text) continue;
		const conf = parseIni(text);
		confs[d] = conf;
		const http = hostPort(conf.http && conf.http.listen);
		const httpPort = (c.ports || []).find((p) => p.name === 'http');
		t(`${d}: [http] listen ${conf.http && conf.http.listen} is on every address (the kubelet probes the pod IP) and is container port http`,
			http && (http.host === '0.0.0.0' || http.host === '::') && httpPort && httpPort.containerPort === http.port);
		for (const [p, pathWant] of [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']]) {
			const g = c[p] && c[p].httpGet;
			t(`${d}: ${p} GETs ${pathWant} on the [http] port`, g && g.path === pathWant && g.port === 'http');
		}
		const listen = hostPort(conf[info.sec].listen);
		const cport = (c.ports || []).find((p) => p.name === info.port);
		t(`${d}: container port ${info.port} is [${info.sec}] listen (${conf[info.sec].listen}, ${info.proto})`,
			listen && cport && cport.containerPort === listen.port && cport.protocol === info.proto);
		if (conf[info.sec].listen6) {
			const l6 = hostPort(conf[info.sec].listen6);
			t(`${d}: [${info.sec}] listen6 uses the same port as listen (one container port, both families)`,
				l6 && listen && l6.port === listen.port);
		}
		// every absolute path in the file must lie on a mount; written ones on a writable mount
		const mounts = c.volumeMounts || [];
		const writes = { as: ['tls.cert', 'tls.key', 'ca.crl'] }[d] || [];
		for (const [sec, kv] of Object.entries(conf)) {
			for (const [k, v] of Object.entries(kv)) {
				if (v[0] !== '/') continue;
				const m = mounts.find((x) => v === x.mountPath || v.startsWith(`${x.mountPath}/`));
				const w2 = writes.includes(`${sec}.${k}`);
				t(`${d}: [${sec}] ${k} = ${v} is on a ${w2 ? 'writable ' : ''}volume mount`,
					m && (!w2 || !m.readOnly), m ? `mounted read-only at ${m.mountPath}` : 'on no mount');
			}
		}
		const pre = c.lifecycle && c.lifecycle.preStop;
		const preS = pre ? (pre.sleep ? pre.sleep.seconds : NaN) : 0;
		const grace = seconds(conf[info.sec].grace_period);
		const tg = spec.terminationGracePeriodSeconds;
		t(`${d}: terminationGracePeriodSeconds ${tg} >= preStop ${preS} s + grace_period ${grace} s + 1 s`,
			tg >= preS + grace + 1);
		const s = svc(`cyphonic-${d}`);
		t(`${d}: Service cyphonic-${d} is a LoadBalancer with externalTrafficPolicy Local (keeps the client's address)`,
			s && s.spec.type === 'LoadBalancer' && s.spec.externalTrafficPolicy === 'Local');
		t(`${d}: Service cyphonic-${d} pins its addresses (loadBalancerIPs) from a pool`,
			lbIPs(s) && (s.metadata.annotations['metallb.universe.tf/address-pool']));
		t(`${d}: a HorizontalPodAutoscaler and a PodDisruptionBudget cover cyphonic-${d}`,
			objs.some((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec.scaleTargetRef.name === `cyphonic-${d}`) &&
			objs.some((o) => o.kind === 'PodDisruptionBudget' && ctx.matches(o.spec.selector, w.spec.template.metadata.labels)));
		t(`${d}: rolling updates never take a ready replica away first (maxUnavailable 0)`,
			w.spec.strategy && w.spec.strategy.rollingUpdate && w.spec.strategy.rollingUpdate.maxUnavailable === 0);
		t(`${d}: readiness fails within one probe period of a drain (failureThreshold 1)`,
			c.readinessProbe && c.readinessProbe.failureThreshold === 1);
		if (conf.store && conf.store.redis) {
			const r = hostPort(conf.store.redis);
			const rs = r && svc(r.host);
			t(`${d}: [store] redis ${conf.store.redis} is a Service of the kustomization on that port`,
				rs && rs.spec.ports.some((p) => p.port === r.port));
		}
		if (conf.store && conf.store.postgres) {
			const kv = Object.fromEntries(conf.store.postgres.split(/\s+/).map((x) => x.split('=')));
			const ps = svc(kv.host);
			t(`${d}: [store] postgres host=${kv.host} port=${kv.port} is a Service of the kustomization`,
				ps && ps.spec.ports.some((p) => p.port === Number(kv.port || 5432)));
			t(`${d}: [store] postgres carries no password (it comes from the Secret through PGPASSWORD)`,
				!/password/.test(conf.store.postgres) && c.env.some((e) => e.name === 'PGPASSWORD'));
		}
	}
	if (confs.nms && confs.nms.relay) {
		const trs = svc('cyphonic-trs');
		const ips = (lbIPs(trs) || '').split(',');
		const port = trs && trs.spec.ports[0].port;
		for (const k of ['endpoint4', 'endpoint6']) {
			const ep = hostPort(confs.nms.relay[k]);
			t(`nms: [relay] ${k} ${confs.nms.relay[k]} is the TRS Service's address and port`,
				ep && ips.includes(ep.host) && ep.port === port);
		}
	}
	if (confs.as) {
		const ips = (lbIPs(svc('cyphonic-as')) || '').split(',');
		const names = (confs.as.tls.names || '').split(',');
		t('as: [tls] names cover the AS Service\'s addresses', ips.every((ip) => names.includes(`IP:${ip}`)));
		t('as: [ca] create = false (pods never make their own CA)', confs.as.ca.create === 'false');
	}
	if (confs.as && confs.nms) {
		t('as/nms: the NMS reads the CRL where the AS writes it', confs.as.ca.crl === confs.nms.ca.crl);
		t('as/nms: the NMS and TRS share one relay key file path',
			!confs.trs || confs.trs.relay.key_file === confs.nms.relay.key_file);
	}
	if (confs.nms && confs.trs && confs.nms.store && confs.trs.store)
		t('nms/trs: one Redis key prefix per deployment', confs.nms.store.prefix === confs.trs.store.prefix);
}

function checkMetalLB(objs, t) {
	const pools = objs.filter((o) => o.kind === 'IPAddressPool');
	const peers = objs.filter((o) => o.kind === 'BGPPeer');
	if (!pools.length) return;
	const v4 = (s) => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
	const v6 = (s) => {
		const [h, tl] = s.split('::');
		const p = (x) => (x ? x.split(':') : []);
		const parts = [...p(h), ...Array(8 - p(h).length - p(tl).length).fill('0'), ...p(tl)];
		return parts.reduce((a, b) => a * 65536n + BigInt(parseInt(b, 16)), 0n);
	};
	const inPool = (ip) => pools.some((pl) => pl.spec.addresses.some((r) => {
		const f = ip.includes(':') ? v6 : v4;
		if (ip.includes(':') !== r.includes(':')) return false;
		const [lo, hi] = r.includes('-') ? r.split('-') : [r, r];
		return f(lo) <= f(ip) && f(ip) <= f(hi);
	}));
	for (const a of objs.filter((o) => o.kind === 'BGPAdvertisement')) {
		t(`BGPAdvertisement/${a.metadata.name}: its pools exist`,
			(a.spec.ipAddressPools || []).every((n) => pools.some((p) => p.metadata.name === n)));
		t(`BGPAdvertisement/${a.metadata.name}: its peers exist`,
			(a.spec.peers || []).every((n) => peers.some((p) => p.metadata.name === n)));
		t(`BGPAdvertisement/${a.metadata.name}: host routes (/32, /128), one ECMP next hop per serving node`,
			a.spec.aggregationLength === 32 && a.spec.aggregationLengthV6 === 128);
	}
	for (const p of peers)
		t(`BGPPeer/${p.metadata.name}: keepaliveTime < holdTime`,
			!p.spec.keepaliveTime || parseInt(p.spec.keepaliveTime, 10) < parseInt(p.spec.holdTime, 10));
	for (const s of objs.filter((o) => o.kind === 'Service' && o.spec.type === 'LoadBalancer')) {
		const ann = s.metadata.annotations || {};
		const pool = ann['metallb.universe.tf/address-pool'];
		t(`Service/${s.metadata.name}: its MetalLB pool ${pool} exists`, pools.some((p) => p.metadata.name === pool));
		for (const ip of (ann['metallb.universe.tf/loadBalancerIPs'] || '').split(','))
			t(`Service/${s.metadata.name}: address ${ip} lies in the pool`, ip && inPool(ip));
	}
}

module.exports = { check, DAEMONS };
