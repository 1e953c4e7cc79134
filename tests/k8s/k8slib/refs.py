# SPDX-License-Identifier: MIT
"""Cross-references between the rendered objects and the Secrets
secrets.sh writes: what the API server cannot check and a cluster would
only reveal by failing (a Service that selects no pod, a probe on a port
the container does not declare, a Secret key nobody writes, a Service
address outside the MetalLB pool). daemons.py checks the daemons' own
configuration files against the objects; the helpers here serve both."""
import ipaddress
import re

from .render import containers, pod_spec

WORKLOAD_KINDS = ('Deployment', 'StatefulSet', 'DaemonSet')


def matches(sel, labels):
    """Whether a label selector (matchLabels, matchExpressions) selects labels."""
    sel, labels = sel or {}, labels or {}
    exprs = {
        'In': lambda e: labels.get(e['key']) in e['values'],
        'NotIn': lambda e: labels.get(e['key']) not in e['values'],
        'Exists': lambda e: e['key'] in labels,
        'DoesNotExist': lambda e: e['key'] not in labels,
    }
    return (all(labels.get(k) == v for k, v in (sel.get('matchLabels') or {}).items())
            and all(exprs[e['operator']](e) for e in sel.get('matchExpressions') or []))


def service_selects(svc, labels):
    # a Service's selector is a plain map; without one it selects no pod
    # by labels (its endpoints are managed by hand)
    sel = svc['spec'].get('selector')
    return bool(sel) and matches({'matchLabels': sel}, labels)


def ident(o):
    return f"{o['kind']}/{o['metadata']['name']}"


def unhash(name):
    return re.sub(r'-[a-z0-9]{10}$', '-<hash>', name)


class Checks:
    """Collects (name, ok, why) results."""

    def __init__(self, objs, secrets, version):
        self.objs = objs
        self.secrets = secrets  # Secret name -> set of its keys
        self.version = version
        self.results = []
        self.workloads = [o for o in objs if o['kind'] in WORKLOAD_KINDS]
        self.config_maps = {c['metadata']['name']: c for c in self.of('ConfigMap')}

    def t(self, name, ok, why=''):
        self.results.append((name, bool(ok), '' if ok else why))

    def of(self, kind):
        return [o for o in self.objs if o['kind'] == kind]

    def svc(self, name):
        return next((s for s in self.of('Service') if s['metadata']['name'] == name), None)

    def selected(self, selector):
        """The workloads whose pod template a label selector selects."""
        return [w for w in self.workloads if matches(selector, w['spec']['template']['metadata'].get('labels'))]


def check_objects(c):
    """The checks among the Kubernetes objects themselves."""
    for w in c.workloads:
        check_workload(c, w)
    check_services(c)
    check_policies(c)


def ports_of(w):
    return [p for ct in pod_spec(w).get('containers') or [] for p in ct.get('ports') or []]


def port_is(cp, port):
    """Whether container port cp is the named or numbered port."""
    return cp.get('name') == port or cp.get('containerPort') == port


def check_workload(c, w):
    wid = ident(w)
    spec = pod_spec(w)
    labels = w['spec']['template']['metadata'].get('labels') or {}
    cts = containers(spec)

    def names(bad):
        return ','.join(str(x.get('name')) for x in bad)

    c.t(f'{wid}: selector matches its pod template\'s labels', matches(w['spec'].get('selector'), labels))

    bad = [x for x in spec['containers']
           if not all(((x.get('resources') or {}).get(r) or {}).get(k)
                      for r in ('requests', 'limits') for k in ('cpu', 'memory'))]
    c.t(f'{wid}: every container has CPU and memory requests and limits', not bad, names(bad))

    psc = spec.get('securityContext') or {}

    def restricted(x):
        s = x.get('securityContext') or {}
        return (s.get('allowPrivilegeEscalation') is False
                and (s.get('capabilities') or {}).get('drop') == ['ALL']
                and not s.get('privileged')
                and (s.get('runAsNonRoot') or psc.get('runAsNonRoot'))
                and (psc.get('runAsUser') or s.get('runAsUser') or 0) > 0
                and (s.get('seccompProfile') or psc.get('seccompProfile') or {}).get('type') == 'RuntimeDefault')
    bad = [x for x in cts if not restricted(x)]
    c.t(f'{wid}: meets Pod Security "restricted" (non-root, no escalation, no capabilities, seccomp)',
        not bad, names(bad))
    bad = [x for x in cts if (x.get('securityContext') or {}).get('readOnlyRootFilesystem') is not True]
    c.t(f'{wid}: read-only root filesystem', not bad, names(bad))

    vols = {v['name']: v for v in spec.get('volumes') or []}
    claims = {v['metadata']['name'] for v in w['spec'].get('volumeClaimTemplates') or []}

    def mounts_ok(x):
        paths = [m['mountPath'] for m in x.get('volumeMounts') or []]
        return (len(set(paths)) == len(paths)
                and all(m['name'] in vols or m['name'] in claims for m in x.get('volumeMounts') or []))
    bad = [x for x in cts if not mounts_ok(x)]
    c.t(f'{wid}: every volume mount names a volume, no path mounted twice', not bad, names(bad))

    # (name, keys, where) of every ConfigMap and Secret the pod reads
    cm_refs, sec_refs = [], []
    for v in vols.values():
        if v.get('configMap'):
            cm_refs.append((v['configMap']['name'], [i['key'] for i in v['configMap'].get('items') or []], v['name']))
        if v.get('secret'):
            sec_refs.append((v['secret']['secretName'], [], v['name']))
        pvc = v.get('persistentVolumeClaim')
        if pvc:
            c.t(f"{wid}: volume {v['name']}: PersistentVolumeClaim {pvc['claimName']} exists",
                any(p['metadata']['name'] == pvc['claimName'] for p in c.of('PersistentVolumeClaim')))
    for x in cts:
        for m in x.get('volumeMounts') or []:
            v = vols.get(m['name'])
            if not m.get('subPath') or not v:
                continue
            if v.get('configMap'):
                cm_refs.append((v['configMap']['name'], [m['subPath']], v['name']))
            if v.get('secret'):
                sec_refs.append((v['secret']['secretName'], [m['subPath']], v['name']))
        for e in x.get('env') or []:
            r = (e.get('valueFrom') or {}).get('secretKeyRef')
            if r:
                sec_refs.append((r['name'], [r['key']], f"env {e['name']}"))
    for name, keys, where in cm_refs:
        cm = c.config_maps.get(name)
        c.t(f"{wid}: {where}: ConfigMap {unhash(name)} exists with {', '.join(keys) or 'its data'}",
            cm and all(k in (cm.get('data') or {}) for k in keys))
    for name, keys, where in sec_refs:
        with_keys = f", with key {','.join(keys)}" if keys else ''
        c.t(f'{wid}: {where}: Secret {name} is one secrets.sh writes{with_keys}',
            name in c.secrets and all(k in c.secrets[name] for k in keys))

    def probes_ok(x):
        for p in ('readinessProbe', 'livenessProbe'):
            pr = x.get(p)
            if not pr or pr.get('exec'):
                continue
            port = (pr.get('httpGet') or pr.get('tcpSocket') or {}).get('port')
            if not any(port_is(cp, port) for cp in x.get('ports') or []):
                return False
        return True
    bad = [x for x in cts if not probes_ok(x)]
    c.t(f'{wid}: probes use ports the container declares', not bad, names(bad))
    for x in cts:
        if not x['image'].startswith('localhost/'):
            continue
        c.t(f"{wid}: {x['name']}: image {x['image']} is built here (imagePullPolicy Never, tag = VERSION {c.version})",
            x.get('imagePullPolicy') == 'Never' and x['image'].endswith(f':{c.version}'))
    c.t(f'{wid}: a Service selects its pods', any(service_selects(s, labels) for s in c.of('Service')))


def check_services(c):
    for s in c.of('Service'):
        sid = ident(s)
        ws = [w for w in c.workloads if service_selects(s, w['spec']['template']['metadata'].get('labels'))]
        c.t(f'{sid}: selects exactly one workload', len(ws) == 1, f'{len(ws)}')
        if len(ws) != 1:
            continue
        bad = [p for p in s['spec']['ports']
               if not any(port_is(cp, p.get('targetPort'))
                          and cp.get('protocol', 'TCP') == p.get('protocol', 'TCP') for cp in ports_of(ws[0]))]
        c.t(f'{sid}: every targetPort is a container port with the same protocol', not bad,
            ','.join(str(p.get('name')) for p in bad))


def check_policies(c):
    for h in c.of('HorizontalPodAutoscaler'):
        hid, ref = ident(h), h['spec']['scaleTargetRef']
        w = next((x for x in c.workloads if x['kind'] == ref['kind'] and x['metadata']['name'] == ref['name']), None)
        c.t(f"{hid}: scales an existing {ref['kind']}", w)
        cpu = any(m['type'] == 'Resource' and m['resource']['name'] == 'cpu' for m in h['spec'].get('metrics') or [])
        c.t(f'{hid}: on CPU utilization, and the pods request CPU',
            cpu and w and all(((x.get('resources') or {}).get('requests') or {}).get('cpu')
                              for x in pod_spec(w)['containers']))
        c.t(f'{hid}: minReplicas >= 2 (a drain never empties the service)', h['spec'].get('minReplicas', 1) >= 2)
        c.t(f"{hid}: the {ref['kind']} leaves spec.replicas to it (apply would reset the count)",
            w and 'replicas' not in w['spec'])
    for p in c.of('PodDisruptionBudget'):
        c.t(f'{ident(p)}: selects one workload', len(c.selected(p['spec'].get('selector'))) == 1)
    for n in c.of('NetworkPolicy'):
        nid = ident(n)
        ws = c.selected(n['spec'].get('podSelector'))
        c.t(f'{nid}: selects one workload', len(ws) == 1)
        for r in n['spec'].get('ingress') or []:
            for f in r.get('from') or []:
                src = c.selected(f.get('podSelector'))
                c.t(f"{nid}: admits {', '.join(w['metadata']['name'] for w in src) or 'no pod'}", src)
            if len(ws) == 1:
                c.t(f"{nid}: its ports are the selected pods' ports",
                    all(any(port_is(cp, p.get('port')) for cp in ports_of(ws[0])) for p in r.get('ports') or []))
    for ns in c.of('Namespace'):
        enforce = (ns['metadata'].get('labels') or {}).get('pod-security.kubernetes.io/enforce')
        c.t(f'{ident(ns)}: enforces Pod Security "restricted"', enforce == 'restricted')


def lb_ips(s):
    """A Service's pinned MetalLB addresses, [] when none."""
    ann = (s or {}).get('metadata', {}).get('annotations') or {}
    v = ann.get('metallb.universe.tf/loadBalancerIPs')
    return v.split(',') if v else []


def in_pool(ip, pools):
    """Whether address ip lies in an address range ("a-b") or address of a pool."""
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for pl in pools:
        for r in pl['spec']['addresses']:
            lo, _, hi = r.partition('-')
            if '/' in r:
                if a in ipaddress.ip_network(r, strict=False):
                    return True
                continue
            lo, hi = ipaddress.ip_address(lo), ipaddress.ip_address(hi or lo)
            if lo.version == a.version and lo <= a <= hi:
                return True
    return False


def check_metallb(c):
    pools, peers = c.of('IPAddressPool'), c.of('BGPPeer')
    if not pools:
        return
    pool_names = {p['metadata']['name'] for p in pools}
    peer_names = {p['metadata']['name'] for p in peers}
    for a in c.of('BGPAdvertisement'):
        aid, spec = ident(a), a.get('spec') or {}
        c.t(f'{aid}: its pools exist', set(spec.get('ipAddressPools') or []) <= pool_names)
        c.t(f'{aid}: its peers exist', set(spec.get('peers') or []) <= peer_names)
        c.t(f'{aid}: host routes (/32, /128), one ECMP next hop per serving node',
            spec.get('aggregationLength') == 32 and spec.get('aggregationLengthV6') == 128)
    for p in peers:
        keep, hold = p['spec'].get('keepaliveTime'), p['spec'].get('holdTime')
        # durations as MetalLB writes them here: whole seconds ("30s")
        c.t(f"{ident(p)}: keepaliveTime < holdTime",
            not keep or (hold and int(re.match(r'\d+', keep).group()) < int(re.match(r'\d+', hold).group())))
    for s in c.of('Service'):
        if s['spec'].get('type') != 'LoadBalancer':
            continue
        pool = (s['metadata'].get('annotations') or {}).get('metallb.universe.tf/address-pool')
        c.t(f"{ident(s)}: its MetalLB pool {pool} exists", pool in pool_names)
        for ip in lb_ips(s) or ['']:
            c.t(f"{ident(s)}: address {ip} lies in the pool", ip and in_pool(ip, pools))

