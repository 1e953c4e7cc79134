#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The kubelet's part of starting one container, for tests/k8s/pod.sh:

  podspec.py OBJECTS.json WORKLOAD CONTAINER SECRETS.yaml PODDIR PVCDIR

materializes the pod's volumes the way the kubelet does (ConfigMap keys and
Secret keys as files with defaultMode, group fsGroup; emptyDir; a
PersistentVolumeClaim as PVCDIR/<claim>, shared by every pod that names it,
as a ReadWriteMany volume is) under PODDIR/vol, and prints the rest as bash
assignments: the command, environment (secretKeyRef resolved), the user,
the mounts, the probes, preStop and the grace period."""
import base64
import json
import os
import sys

from k8slib.render import containers, load_docs, pod_spec


def q(s):
    """s as one single-quoted bash word (pod.sh's callers match on the quotes)."""
    return "'" + str(s).replace("'", "'\\''") + "'"


def main(obj_file, wname, cname, sec_file, pod_dir, pvc_dir):
    with open(obj_file, encoding='utf-8') as f:
        objs = json.load(f)
    w = next((o for o in objs if o['kind'] in ('Deployment', 'StatefulSet') and o['metadata']['name'] == wname), None)
    if not w:
        sys.exit(f'podspec: no workload {wname}')
    spec = pod_spec(w)
    c = next((x for x in containers(spec) if x['name'] == cname), None)
    if not c:
        sys.exit(f'podspec: {wname} has no container {cname}')
    secrets = {s['metadata']['name']: s.get('data') or {} for s in load_docs(sec_file) if s.get('kind') == 'Secret'}
    cms = {o['metadata']['name']: o.get('data') or {} for o in objs if o['kind'] == 'ConfigMap'}
    psc = spec.get('securityContext') or {}
    sc = {**psc, **(c.get('securityContext') or {})}
    fs_group = psc.get('fsGroup')

    def own(p):
        if fs_group is not None:
            os.chown(p, 0, fs_group)

    def volume_dir(v):
        """The host directory of volume v, filled as the kubelet fills it."""
        if v.get('persistentVolumeClaim'):
            return os.path.join(pvc_dir, v['persistentVolumeClaim']['claimName'])
        d = os.path.join(pod_dir, 'vol', v['name'])
        os.makedirs(d, exist_ok=True)
        own(d)

        def files(data, mode, decode):
            for k, val in data.items():
                p = os.path.join(d, k)
                with open(p, 'wb') as f:
                    f.write(base64.b64decode(val) if decode else val.encode())
                os.chmod(p, mode)
                own(p)
        if v.get('configMap'):
            files(cms[v['configMap']['name']], v['configMap'].get('defaultMode', 0o644), False)
        elif v.get('secret'):
            files(secrets[v['secret']['secretName']], v['secret'].get('defaultMode', 0o644), True)
        elif 'emptyDir' in v:
            os.chmod(d, 0o2775)
        else:
            sys.exit(f"podspec: volume {v['name']}: kind not supported here")
        return d

    vols = {v['name']: v for v in spec.get('volumes') or []}
    # a StatefulSet's claim for its first replica, named as the controller names it
    for t in w['spec'].get('volumeClaimTemplates') or []:
        n = t['metadata']['name']
        vols[n] = {'name': n, 'persistentVolumeClaim': {'claimName': f'{n}-{wname}-0'}}
    mounts = []
    for m in c.get('volumeMounts') or []:
        v = vols[m['name']]
        src = volume_dir(v)
        pvc = v.get('persistentVolumeClaim')
        if pvc and not os.path.exists(src):
            os.makedirs(src)
            os.chmod(src, 0o2775)
            own(src)
        ro = m.get('readOnly') or v.get('configMap') or v.get('secret') or (pvc and pvc.get('readOnly'))
        path = os.path.join(src, m['subPath']) if m.get('subPath') else src
        mounts.append(f"{path}|{m['mountPath']}|{'ro' if ro else 'rw'}")

    def env_value(e):
        r = (e.get('valueFrom') or {}).get('secretKeyRef')
        return base64.b64decode(secrets[r['name']][r['key']]).decode() if r else e.get('value', '')
    env = [f"{e['name']}={env_value(e)}" for e in c.get('env') or []]

    def probe(p):
        """"PATH PORT" of an HTTP probe, the port resolved to its number."""
        if not p or not p.get('httpGet'):
            return ''
        g = p['httpGet']
        port = next(x['containerPort'] for x in c.get('ports') or []
                    if x.get('name') == g['port'] or x.get('containerPort') == g['port'])
        return f"{g['path']} {port}"
    pre = (c.get('lifecycle') or {}).get('preStop') or {}
    ready = c.get('readinessProbe')
    out = {
        'P_UID': sc.get('runAsUser') or 0,
        'P_GID': sc.get('runAsGroup') or sc.get('runAsUser') or 0,
        'P_FSGROUP': '' if fs_group is None else fs_group,
        'P_RO_ROOT': 1 if sc.get('readOnlyRootFilesystem') else 0,
        'P_TGPS': spec.get('terminationGracePeriodSeconds', 30),
        'P_PRESTOP': (pre.get('sleep') or {}).get('seconds', 0),
        'P_READY': probe(ready),
        'P_LIVE': probe(c.get('livenessProbe')),
        # how soon the kubelet sees a failing readiness probe
        'P_READY_PERIOD': (ready.get('periodSeconds', 10) * ready.get('failureThreshold', 3)) if ready else 0,
    }
    for k, v in out.items():
        print(f'{k}={q(v)}')
    print(f"P_CMD=({' '.join(q(x) for x in (c.get('command') or []) + (c.get('args') or []))})")
    print(f"P_ENV=({' '.join(q(x) for x in env)})")
    print(f"P_MOUNTS=({' '.join(q(x) for x in mounts)})")


if __name__ == '__main__':
    main(*sys.argv[1:7])
