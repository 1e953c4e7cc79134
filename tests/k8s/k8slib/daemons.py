# SPDX-License-Identifier: MIT
"""Cross-references between each daemon's Deployment and its own
configuration file (from the generated ConfigMap), and between the files:
probes on the port [http] listens on, container ports on the [x] listen
ports, every path of the file on a volume mount, a grace period covering
preStop and the drain, [store] hosts that are Services, [relay] endpoints
that are the TRS Service's address."""
from .ini import host_port, parse_ini, seconds
from .refs import lb_ips, matches
from .render import pod_spec

# The daemons, their config section, and the container port (name,
# protocol) their [x] listen key opens.
DAEMONS = {
    'as': ('as', 'tls', 'TCP'),
    'nms': ('nms', 'signal', 'UDP'),
    'trs': ('trs', 'relay', 'UDP'),
}


def check_daemon(c, d, w):
    """The checks of one daemon's Deployment against its own config file;
    returns the parsed file, or None."""
    sec, port_name, proto = DAEMONS[d]
    spec = pod_spec(w)
    ct = spec['containers'][0]
    cmd = ct.get('command') or []
    cfg_path = cmd[cmd.index('-c') + 1] if '-c' in cmd[:-1] else None
    mounts = ct.get('volumeMounts') or []
    mount = next((m for m in mounts if m['mountPath'] == cfg_path), None)
    vol = mount and next((v for v in spec.get('volumes') or [] if v['name'] == mount['name']), None)
    cm = vol and vol.get('configMap') and c.config_maps.get(vol['configMap']['name'])
    text = cm and (cm.get('data') or {}).get(mount.get('subPath'))
    c.t(f'{d}: the container runs cyphonic-{d} -c {cfg_path}, the file {d}.conf of the generated ConfigMap',
        cmd[:1] == [f'/usr/sbin/cyphonic-{d}'] and text and mount['subPath'] == f'{d}.conf'
        and cm.get('__generatedFrom'))
    if not text:
        return None
    conf = parse_ini(text)
    ports = ct.get('ports') or []
    http_listen = conf.get('http', {}).get('listen')
    http = host_port(http_listen)
    http_port = next((p for p in ports if p.get('name') == 'http'), None)
    c.t(f'{d}: [http] listen {http_listen} is on every address (the kubelet probes the pod IP) and is container port http',
        http and http[0] in ('0.0.0.0', '::') and http_port and http_port['containerPort'] == http[1])
    for p, want in (('readinessProbe', '/readyz'), ('livenessProbe', '/healthz')):
        g = (ct.get(p) or {}).get('httpGet') or {}
        c.t(f'{d}: {p} GETs {want} on the [http] port', g.get('path') == want and g.get('port') == 'http')
    own = conf.get(sec, {})
    listen = host_port(own.get('listen'))
    cport = next((p for p in ports if p.get('name') == port_name), None)
    c.t(f"{d}: container port {port_name} is [{sec}] listen ({own.get('listen')}, {proto})",
        listen and cport and cport['containerPort'] == listen[1] and cport.get('protocol') == proto)
    if own.get('listen6'):
        l6 = host_port(own['listen6'])
        c.t(f'{d}: [{sec}] listen6 uses the same port as listen (one container port, both families)',
            l6 and listen and l6[1] == listen[1])
    # every absolute path in the file lies on a mount; written ones on a writable mount
    writes = {'as': {'tls.cert', 'tls.key', 'ca.crl'}}.get(d, set())
    for s, kv in conf.items():
        for k, v in kv.items():
            if not v.startswith('/'):
                continue
            m = next((x for x in mounts if v == x['mountPath'] or v.startswith(x['mountPath'] + '/')), None)
            wr = f'{s}.{k}' in writes
            c.t(f"{d}: [{s}] {k} = {v} is on a {'writable ' if wr else ''}volume mount",
                m and (not wr or not m.get('readOnly')),
                f"mounted read-only at {m['mountPath']}" if m else 'on no mount')
    pre = (ct.get('lifecycle') or {}).get('preStop')
    pre_s = ((pre.get('sleep') or {}).get('seconds') if pre else 0)
    grace = seconds(own.get('grace_period'))
    tg = spec.get('terminationGracePeriodSeconds')
    c.t(f'{d}: terminationGracePeriodSeconds {tg} >= preStop {pre_s} s + grace_period {grace} s + 1 s',
        None not in (tg, pre_s, grace) and tg >= pre_s + grace + 1)
    s = c.svc(f'cyphonic-{d}')
    c.t(f'{d}: Service cyphonic-{d} is a LoadBalancer with externalTrafficPolicy Local (keeps the client\'s address)',
        s and s['spec'].get('type') == 'LoadBalancer' and s['spec'].get('externalTrafficPolicy') == 'Local')
    c.t(f'{d}: Service cyphonic-{d} pins its addresses (loadBalancerIPs) from a pool',
        lb_ips(s) and s['metadata']['annotations'].get('metallb.universe.tf/address-pool'))
    labels = w['spec']['template']['metadata'].get('labels')
    c.t(f'{d}: a HorizontalPodAutoscaler and a PodDisruptionBudget cover cyphonic-{d}',
        any(h['spec']['scaleTargetRef']['name'] == f'cyphonic-{d}' for h in c.of('HorizontalPodAutoscaler'))
        and any(matches(p['spec'].get('selector'), labels) for p in c.of('PodDisruptionBudget')))
    c.t(f'{d}: rolling updates never take a ready replica away first (maxUnavailable 0)',
        ((w['spec'].get('strategy') or {}).get('rollingUpdate') or {}).get('maxUnavailable') == 0)
    c.t(f'{d}: readiness fails within one probe period of a drain (failureThreshold 1)',
        (ct.get('readinessProbe') or {}).get('failureThreshold') == 1)
    store = conf.get('store', {})
    if store.get('redis'):
        r = host_port(store['redis'])
        rs = r and c.svc(r[0])
        c.t(f"{d}: [store] redis {store['redis']} is a Service of the kustomization on that port",
            rs and any(p['port'] == r[1] for p in rs['spec']['ports']))
    if store.get('postgres'):
        kv = dict(x.split('=', 1) for x in store['postgres'].split() if '=' in x)
        ps = c.svc(kv.get('host'))
        c.t(f"{d}: [store] postgres host={kv.get('host')} port={kv.get('port')} is a Service of the kustomization",
            ps and any(p['port'] == int(kv.get('port', 5432)) for p in ps['spec']['ports']))
        c.t(f'{d}: [store] postgres carries no password (it comes from the Secret through PGPASSWORD)',
            'password' not in store['postgres'] and any(e['name'] == 'PGPASSWORD' for e in ct.get('env') or []))
    return conf


def check(c):
    confs = {}
    for d in DAEMONS:
        w = next((x for x in c.workloads if x['metadata']['name'] == f'cyphonic-{d}'), None)
        c.t(f'{d}: Deployment cyphonic-{d} exists', w and w['kind'] == 'Deployment')
        if w:
            conf = check_daemon(c, d, w)
            if conf is not None:
                confs[d] = conf
    if 'relay' in confs.get('nms', {}):
        trs = c.svc('cyphonic-trs')
        port = trs and trs['spec']['ports'][0]['port']
        for k in ('endpoint4', 'endpoint6'):
            v = confs['nms']['relay'].get(k)
            ep = host_port(v)
            c.t(f'nms: [relay] {k} {v} is the TRS Service\'s address and port',
                ep and ep[0] in lb_ips(trs) and ep[1] == port)
    if 'as' in confs:
        names = (confs['as'].get('tls', {}).get('names') or '').split(',')
        c.t('as: [tls] names cover the AS Service\'s addresses',
            all(f'IP:{ip}' in names for ip in lb_ips(c.svc('cyphonic-as'))))
        c.t('as: [ca] create = false (pods never make their own CA)', confs['as'].get('ca', {}).get('create') == 'false')
    if 'as' in confs and 'nms' in confs:
        c.t('as/nms: the NMS reads the CRL where the AS writes it',
            confs['as'].get('ca', {}).get('crl') == confs['nms'].get('ca', {}).get('crl'))
        c.t('as/nms: the NMS and TRS share one relay key file path',
            'trs' not in confs or confs['trs'].get('relay', {}).get('key_file') == confs['nms'].get('relay', {}).get('key_file'))
    if 'store' in confs.get('nms', {}) and 'store' in confs.get('trs', {}):
        c.t('nms/trs: one Redis key prefix per deployment',
            confs['nms']['store'].get('prefix') == confs['trs']['store'].get('prefix'))
