# SPDX-License-Identifier: MIT
"""A small kustomize: renders a kustomization directory to its objects, for
the subset deploy/k8s uses (resources, namespace, labels, replicas, images,
configMapGenerator with the content-hash name suffix and the rewriting of
references to generated names, patches by strategic merge on name-keyed
lists or RFC 6902 add/replace, aimed by kind, name and labelSelector).
Anything else in a kustomization.yaml is refused, so the manifests cannot
grow a feature this renderer would silently ignore. When kubectl is
installed, the suite compares this output with `kubectl kustomize` (the
real one).

Objects are plain dicts as YAML gives them. Two bookkeeping keys ride along
and are dropped before any schema sees the object: "__file" (the manifest
it came from) and "__generatedFrom" (a generated ConfigMap's name without
its hash)."""
import copy
import hashlib
import json
import os

import yaml

KNOWN = {'apiVersion', 'kind', 'namespace', 'labels', 'resources',
         'configMapGenerator', 'replicas', 'images', 'patches'}


class RenderError(Exception):
    pass


def load_docs(path):
    """Every non-empty YAML document of a file. PyYAML reads YAML 1.1, as
    kubectl does: 0440 is octal there (a Secret's defaultMode), decimal in
    YAML 1.2."""
    with open(path, encoding='utf-8') as f:
        try:
            return [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            raise RenderError(f'{path}: {e}') from e


def name_hash(cm):
    """The generated name's suffix: a hash of the content, so a changed
    config file renames the ConfigMap and rolls the pods that mount it. It
    is not byte-for-byte kustomize's hash; the comparison with kubectl
    kustomize maps its generated names onto these."""
    canon = json.dumps({'kind': 'ConfigMap', 'name': cm['metadata']['name'],
                        'data': cm.get('data') or {}},
                       sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    h = hashlib.sha256(canon.encode()).hexdigest()[:10]
    # kustomize's alphabet avoids vowels and look-alike digits
    return h.translate(str.maketrans({'0': 'g', '1': 'h', '3': 'k', 'a': 'm', 'e': 't'}))


def merge(dst, src):
    """Strategic merge, enough for patches: maps merge, lists of objects
    with a "name" merge by name, other lists are replaced."""
    if (isinstance(src, list) and isinstance(dst, list)
            and all(isinstance(e, dict) and 'name' in e for e in src)):
        out = list(dst)
        for e in src:
            i = next((i for i, d in enumerate(out)
                      if isinstance(d, dict) and d.get('name') == e['name']), None)
            if i is None:
                out.append(e)
            else:
                out[i] = merge(out[i], e)
        return out
    if isinstance(src, dict) and isinstance(dst, dict):
        out = dict(dst)
        for k, v in src.items():
            out[k] = merge(dst[k], v) if k in dst else v
        return out
    return src


def targets(o, t):
    """Whether o is a patch's target: kind, and name and labelSelector
    ("k=v,...") when given."""
    labels = o['metadata'].get('labels') or {}
    if o['kind'] != t.get('kind') or (t.get('name') and o['metadata']['name'] != t['name']):
        return False
    for kv in filter(None, (t.get('labelSelector') or '').split(',')):
        key, _, v = kv.partition('=')
        if labels.get(key) != v:
            return False
    return True


def json6902(o, ops):
    """RFC 6902 "add" and "replace" (all deploy/k8s needs) on a copy of o."""
    out = copy.deepcopy(o)
    for op in ops:
        if op['op'] not in ('add', 'replace'):
            raise RenderError(f"patch op {op['op']} not supported")
        keys = [k.replace('~1', '/').replace('~0', '~') for k in op['path'].split('/')[1:]]
        last = keys.pop()
        at = out
        for k in keys:
            at = at[int(k)] if isinstance(at, list) else at[k]
        if isinstance(at, list):
            i = len(at) if last == '-' else int(last)
            if op['op'] == 'add':
                at.insert(i, op['value'])
            else:
                at[i] = op['value']
        else:
            at[last] = op['value']
    return out


def pod_spec(o):
    """The pod spec of a Pod, CronJob or workload, else None."""
    spec = o.get('spec') or {}
    if o['kind'] == 'Pod':
        return spec
    if o['kind'] == 'CronJob':
        return spec['jobTemplate']['spec']['template']['spec']
    return (spec.get('template') or {}).get('spec')


def containers(spec):
    return (spec.get('containers') or []) + (spec.get('initContainers') or [])


def rename_config_maps(spec, names):
    """Every place in a pod spec that names a ConfigMap, to its generated name."""
    def fix(ref, key):
        if ref and ref.get(key) in names:
            ref[key] = names[ref[key]]
    for v in spec.get('volumes') or []:
        fix(v.get('configMap'), 'name')
        for s in (v.get('projected') or {}).get('sources') or []:
            fix(s.get('configMap'), 'name')
    for c in containers(spec):
        for e in c.get('env') or []:
            fix((e.get('valueFrom') or {}).get('configMapKeyRef'), 'name')
        for e in c.get('envFrom') or []:
            fix(e.get('configMapRef'), 'name')


def render(d):
    """(objects, files): the rendered objects and every file they came from."""
    kfile = os.path.join(d, 'kustomization.yaml')
    k = load_docs(kfile)[0]
    for key in k:
        if key not in KNOWN:
            raise RenderError(f"{kfile}: '{key}' is not supported by tests/k8s/k8slib/render.py")
    objs, files = [], []
    for r in k.get('resources') or []:
        p = os.path.join(d, r)
        if os.path.isdir(p):
            sub, subfiles = render(p)
            objs += sub
            files += subfiles
        else:
            files.append(p)
            objs += [dict(o, __file=p) for o in load_docs(p)]
    renamed = {}
    for g in k.get('configMapGenerator') or []:
        data = {}
        for f in g.get('files') or []:
            key, _, rel = f.partition('=') if '=' in f else (os.path.basename(f), '', f)
            with open(os.path.join(d, rel), encoding='utf-8') as fh:
                data[key] = fh.read()
            files.append(os.path.join(d, rel))
        cm = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': g['name']}, 'data': data}
        renamed[g['name']] = cm['metadata']['name'] = f"{g['name']}-{name_hash(cm)}"
        objs.append(dict(cm, __file=kfile, __generatedFrom=g['name']))
    for p in k.get('patches') or []:
        if p.get('path'):
            files.append(os.path.join(d, p['path']))
            patch = load_docs(os.path.join(d, p['path']))[0]
        else:
            patch = yaml.safe_load(p['patch'])
        t = p.get('target') or {'kind': patch['kind'], 'name': patch['metadata']['name']}
        objs = [dict(json6902(o, patch) if isinstance(patch, list) else merge(o, patch),
                     __file=o['__file']) if targets(o, t) else o
                for o in objs]
    objs = copy.deepcopy(objs)  # the steps below change objects in place
    for r in k.get('replicas') or []:
        for o in objs:
            if o['metadata']['name'] == r['name'] and 'replicas' in (o.get('spec') or {}):
                o['spec']['replicas'] = r['count']
    for o in objs:
        if k.get('namespace') and o['kind'] != 'Namespace':
            o['metadata']['namespace'] = k['namespace']
        for lab in k.get('labels') or []:
            if lab.get('includeSelectors') or lab.get('includeTemplates'):
                raise RenderError(f'{kfile}: labels with includeSelectors/includeTemplates are not supported')
            o['metadata']['labels'] = {**(o['metadata'].get('labels') or {}), **lab['pairs']}
        spec = pod_spec(o)
        if not spec:
            continue
        rename_config_maps(spec, renamed)
        for im in k.get('images') or []:
            for c in containers(spec):
                name, _, tag = c['image'].partition(':')
                if name == im['name']:
                    tag = im.get('newTag') or tag
                    c['image'] = (im.get('newName') or im['name']) + (f':{tag}' if tag else '')
    return objs, files
